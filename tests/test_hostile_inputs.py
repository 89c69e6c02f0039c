"""Hostile inputs on every route of both apps never end in a 5xx (issue #10 "No request may end in a 500").

Each registered route (the url_map of the portal and the API; the authorization matrix supplies a real URL, body and
a principal allowed to call it) gets: OPTIONS, JSON nested 1,000 deep, a body of the wrong content type, NUL and
other control characters, 10,000-character strings, 30-digit numbers and wrong types in every field it reads
(query string, form, JSON leaves), and a NUL in the path. Any 5xx fails, listing every offending request.
"""

import io
import json
import re
from urllib.parse import quote

import pytest

from tests.authz.cells import STAFF
from tests.authz.test_matrix import MATRIX, registered_routes
from tests.helpers import PortalClient
from tests.registration.helpers import FULL

DEEP_ARRAY = "[" * 1000 + "]" * 1000
DEEP_OBJECT = '{"a":' * 1000 + "1" + "}" * 1000
HUGE = "长" * 10_000
BIG_NUMBER = "9" * 30
MAX_INT64, MIN_INT64 = str(2**63 - 1), str(-(2**63))
TEXT_VALUES = ("a\x00b", "\x1b[31m", HUGE, BIG_NUMBER, "9" * 5000, MAX_INT64, MIN_INT64, "-1", "0", "1e999", " ", "[]")
# Per field, only values that pass the guards (NUL and 30-digit numbers are refused before any view: checked once
# per route through the query string, and in tests/test_input_guards.py), plus one control character.
FORM_VALUES = ("a\x00b", HUGE, MAX_INT64, " ", ["a", "b"])
JSON_VALUES = ("a\x00b", HUGE, 2**63 - 1, -1, True, None, [], {"a": "b"})
QUERY_KEYS = {
    "portal": (
        "unit", "grid", "year", "tab", "sort", "next", "before", "q", "status", "name", "idx", "action", "result",
        "actor", "object_type", "object_id", "from", "to", "page",
    ),
    "api": ("limit", "cursor", "echostr", "signature", "timestamp", "nonce", "encrypt_type", "msg_signature"),
}  # fmt: skip
URL_FOR_NAMES = ("endpoint", "values", "method", "_external", "_scheme", "_anchor", "_method", "after", "before")
RAW_QUERY_VALUES = ("%00", "%ED%A0%80", "%FF%FE")
RATE_LIMITS = ("API_LOGIN_RATE_LIMIT", "API_BIND_RATE_LIMIT", "API_EVENTS_RATE_LIMIT", "PORTAL_LOGIN_RATE_LIMIT")

pytestmark = pytest.mark.shared_world  # issue 21: one world, each route rolled back (tests/shared_world.py)


def test_every_route_is_probed(portal_app, api_app):
    assert registered_routes(portal_app, api_app) == set(MATRIX)


def _resolve(value, world):
    return value(world) if callable(value) else value


def _leaf_variants(data, values):
    """Copies of `data` with one leaf (or container) at a time replaced by each of `values`."""
    if isinstance(data, dict):
        for key, value in data.items():
            for replacement in values:
                yield {**data, key: replacement}
            for variant in _leaf_variants(value, values):
                yield {**data, key: variant}
    elif isinstance(data, list):
        for replacement in values:
            yield [*data, replacement]
        for index, value in enumerate(data):
            for variant in _leaf_variants(value, values):
                yield [*data[:index], variant, *data[index + 1 :]]


def _json(value):
    """A JSON body, ASCII-escaped so lone surrogates travel as \\ud800 escapes."""
    return {"data": json.dumps(value), "content_type": "application/json"}


def _json_fields(api_app, endpoint):
    """The top-level fields of a JSON operation's argument schema, so absent optional fields are probed too."""
    view = api_app.view_functions[endpoint]
    fields = {}
    for parameter in getattr(view, "_apidoc", {}).get("arguments", {}).get("parameters", []):
        if parameter.get("in") in ("json", "form", "query"):
            fields.update({name: "x" for name in parameter["schema"]._declared_fields})
    return fields


def _form_fields(client, url):
    """Field names of the page's forms (GET of the same URL), so fields the matrix leaves out are probed too."""
    response = client.get(url)
    if response.status_code != 200 or "text/html" not in response.content_type:
        return {}
    names = re.findall(r'name="([^"]+)"', response.get_data(as_text=True))
    return {name: "1" for name in names if name != "csrf_token"}


def _with_query(url, query):
    return f"{url}{'&' if '?' in url else '?'}{query}"


def _requests(app_name, cell, world, client, api_app, endpoint):
    """(label, kwargs for client.open) for one route."""
    url = _resolve(cell.url, world)
    method = cell.method
    data = _resolve(cell.data, world) or {}
    if endpoint == "registration.save_draft":
        data = {"content": json.loads(json.dumps(FULL))}
    keys = QUERY_KEYS[app_name]
    yield "OPTIONS", {"method": "OPTIONS", "path": url}
    yield "NUL in path", {"method": method, "path": url.partition("?")[0] + "%00"}
    for body in (DEEP_ARRAY, DEEP_OBJECT):
        yield "deep JSON", {"method": method, "path": url, "data": body, "content_type": "application/json"}
    yield "text body", {"method": method, "path": url, "data": "a=1", "content_type": "text/plain"}
    yield (
        "broken JSON",
        {"method": method, "path": url, "data": "[9" + "9" * 5000 + "]", "content_type": "application/json"},
    )
    for value in TEXT_VALUES if method == "GET" else TEXT_VALUES[:3]:
        yield (
            f"query {value[:12]!r}",
            {"method": method, "path": _with_query(url, "&".join(f"{k}={quote(value)}" for k in keys))},
        )
    # names url_for() reads itself: a page that hands its query back to url_for(**args) must drop them
    yield "url_for names", {"method": method, "path": _with_query(url, "&".join(f"{k}=x" for k in URL_FOR_NAMES))}
    for raw in RAW_QUERY_VALUES:
        yield f"raw query {raw}", {"method": method, "path": _with_query(url, "&".join(f"{k}={raw}" for k in keys))}
    if method == "GET":
        return
    if app_name == "api" and not cell.multipart:
        body = {**_json_fields(api_app, endpoint), **data} if isinstance(data, dict) else data
        yield (
            "JSON as text/plain",
            {"method": method, "path": url, "data": json.dumps(body), "content_type": "text/plain"},
        )
        yield "JSON as form", {"method": method, "path": url, "data": {"a": "1"}}
        for value in ([], "x", 1, None):
            yield "JSON top-level type", {"method": method, "path": url, **_json(value)}
        if isinstance(body, dict):
            for variant in _leaf_variants(body, JSON_VALUES):
                yield f"JSON {str(variant)[:60]}", {"method": method, "path": url, **_json(variant)}
        return
    fields = {**_json_fields(api_app, endpoint)} if app_name == "api" else {}
    if app_name == "portal" and method == "POST":
        fields.update(_form_fields(client, url))
    plain = {k: v for k, v in (data if isinstance(data, dict) else {}).items() if not isinstance(v, tuple)}
    fields.update(plain)
    files = {k: v for k, v in (data if isinstance(data, dict) else {}).items() if isinstance(v, tuple)}
    yield "JSON to a form", {"method": method, "path": url, **_json(fields)}
    for name in ("a\x00.pdf", "长" * 300 + ".pdf") if files else ():
        form = {**fields, **{k: (io.BytesIO(b"%PDF-1.4 x"), name) for k in files}}
        yield f"file name {name[:8]!r}", {"method": method, "path": url, "data": form}
    for key in fields:
        for value in FORM_VALUES:
            form = {**fields, key: value, **{k: (io.BytesIO(b"%PDF-1.4 x"), "a.pdf") for k in files}}
            yield f"form {key}={str(value)[:12]!r}", {"method": method, "path": url, "data": form}


def _principal(app_name, cell):
    if app_name == "api":
        return "veteran_a"
    if cell.url == "/login":
        return "anonymous"
    return next((p for p in cell.allowed if p in STAFF), "staff_x")


@pytest.mark.parametrize("route", sorted(MATRIX), ids=lambda r: f"{r[0]}:{r[1]}:{r[2]}")
def test_hostile_inputs_never_give_a_server_error(route, shared_world, portal_app, api_app, monkeypatch, fake_wechat):
    monkeypatch.setattr("backend.tasks.enqueue", lambda task, *args, **kw: None)
    for key in RATE_LIMITS:
        for flask_app in (portal_app, api_app):
            monkeypatch.setitem(flask_app.config, key, "100000 per minute")
    world, tokens = shared_world.world, shared_world.tokens  # built once, rolled back after each route
    world.objects["fake"] = fake_wechat
    app_name, endpoint, _ = route
    cell = MATRIX[route]
    principal = _principal(app_name, cell)
    headers = {}
    if app_name == "portal":
        portal = PortalClient(portal_app)
        if principal != "anonymous":
            portal.login(getattr(world, principal))
        client = portal.client
    else:
        client = api_app.test_client()
        headers["Authorization"] = f"Bearer {tokens[principal][cell.token + '_token']}"
    failures = []
    count = 0
    for label, kwargs in _requests(app_name, cell, world, client, api_app, endpoint):
        response = client.open(headers=headers, **kwargs)
        count += 1
        if response.status_code >= 500:
            failures.append(f"{response.status_code} {kwargs['method']} {label}")
        response.close()
    assert not failures, f"{len(failures)} of {count} hostile requests failed:\n" + "\n".join(failures[:30])
