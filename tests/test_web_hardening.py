"""Issue 10 (tokens slice): the real client address behind trusted proxies, and the response headers of both apps."""

import pytest
from sqlalchemy import select

from backend.audit.models import AuditLog
from backend.extensions import db
from tests.api.helpers import login_code

CLIENT, PROXY_HOP = "203.0.113.7", "198.51.100.9"


def _login_source_ip(api_app, fake_wechat, openid, headers):
    client = api_app.test_client()
    response = client.post("/v1/auth/login", json={"code": login_code(fake_wechat, openid)}, headers=headers)
    assert response.status_code == 200
    return db.session.scalars(
        select(AuditLog.source_ip).where(AuditLog.action == "veteran.login").order_by(AuditLog.id.desc()).limit(1)
    ).one()


def test_forwarded_for_is_ignored_without_trusted_proxies(api_app, fake_wechat):
    assert api_app.config["TRUSTED_PROXY_COUNT"] == 0  # the default trusts nobody
    ip = _login_source_ip(api_app, fake_wechat, "o-xff-0", {"X-Forwarded-For": CLIENT})
    assert ip == "127.0.0.1"


@pytest.mark.parametrize(
    "count,forwarded,expected",
    [(1, CLIENT, CLIENT), (1, f"6.6.6.6, {CLIENT}", CLIENT), (2, f"6.6.6.6, {CLIENT}, {PROXY_HOP}", CLIENT)],
)
def test_forwarded_for_names_the_client_behind_trusted_proxies(
    api_app, fake_wechat, monkeypatch, count, forwarded, expected
):
    """Only the hops the proxies appended are believed: a spoofed left-most entry (6.6.6.6) is not."""
    monkeypatch.setitem(api_app.config, "TRUSTED_PROXY_COUNT", count)
    assert _login_source_ip(api_app, fake_wechat, f"o-xff-{count}", {"X-Forwarded-For": forwarded}) == expected


@pytest.mark.parametrize("count", [0, 1])
def test_rate_limits_key_on_the_real_client(api_app, monkeypatch, count):
    monkeypatch.setitem(api_app.config, "TRUSTED_PROXY_COUNT", count)
    monkeypatch.setitem(api_app.config, "API_LOGIN_RATE_LIMIT", "3 per minute")
    client = api_app.test_client()

    def attempt(address):
        return client.post("/v1/auth/login", json={}, headers={"X-Forwarded-For": address}).status_code

    assert [attempt("192.0.2.1") for _ in range(4)] == [422, 422, 422, 429]
    # another client behind the same proxy has its own budget only when the proxy is trusted
    assert attempt("192.0.2.2") == (422 if count else 429)


def test_portal_uses_the_real_client_too(portal_app, world, monkeypatch):
    monkeypatch.setitem(portal_app.config, "TRUSTED_PROXY_COUNT", 1)
    client = portal_app.test_client()
    client.post("/login", data={"username": "nobody-here", "password": "x"}, headers={"X-Forwarded-For": CLIENT})
    ips = db.session.scalars(select(AuditLog.source_ip).where(AuditLog.action == "staff.login")).all()
    assert ips and set(ips) == {CLIENT}


def test_proxy_scheme_is_trusted_with_the_address(api_app, monkeypatch):
    """X-Forwarded-Proto from a trusted proxy makes request.is_secure true (no HTTPS redirect loop behind TLS)."""
    from flask import request

    seen = {}

    def probe():
        seen["secure"] = request.is_secure

    monkeypatch.setitem(api_app.config, "TRUSTED_PROXY_COUNT", 1)
    api_app.before_request_funcs.setdefault(None, []).append(probe)
    try:
        api_app.test_client().get("/v1/health", headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": CLIENT})
    finally:
        api_app.before_request_funcs[None].remove(probe)
    assert seen == {"secure": True}


# --- response headers ---------------------------------------------------------------------------------------------


def _api_answers(api_app, fake_wechat, world):
    from tests.api.helpers import bound_client
    from tests.factories import create_veteran

    client = bound_client(api_app, fake_wechat, create_veteran(station=world.x1))
    raw = api_app.test_client()
    auth = {"Authorization": f"Bearer {client.token}"}
    return {
        "me": raw.get("/v1/me", headers=auth),
        "registration": raw.get("/v1/registrations/current", headers=auth),
        "error": raw.get("/v1/me"),
        "not_found": raw.get("/v1/nowhere"),
        "health": raw.get("/v1/health"),
        "openapi": raw.get("/openapi.json"),
    }


def test_every_api_answer_is_not_stored_and_carries_security_headers(api_app, fake_wechat, world):
    for name, response in _api_answers(api_app, fake_wechat, world).items():
        headers = response.headers
        assert headers.get("Cache-Control") == "no-store", name
        assert headers.get("X-Content-Type-Options") == "nosniff", name
        assert "frame-ancestors 'none'" in headers.get("Content-Security-Policy", ""), name
        assert headers.get("X-Frame-Options") == "DENY", name
        assert "Strict-Transport-Security" not in headers, name  # not in development/test


def test_api_sends_hsts_in_production(api_app, monkeypatch):
    monkeypatch.setitem(api_app.config, "FORCE_HTTPS", True)
    response = api_app.test_client().get("/v1/health", base_url="https://localhost")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")


def test_every_portal_page_is_not_stored_but_static_assets_may_be(portal_app, world):
    from tests.factories import create_veteran
    from tests.helpers import portal_as

    veteran = create_veteran(station=world.x1)
    portal = portal_as(portal_app, world.staff_x)
    anonymous = portal_app.test_client()
    pages = [
        portal.get("/"),
        portal.get("/veterans/"),
        portal.get(f"/veterans/{veteran.id}"),
        portal.get("/no-such-page"),
        anonymous.get("/login"),
        anonymous.get("/veterans/"),  # the redirect to login
    ]
    for response in pages:
        assert response.headers.get("Cache-Control") == "no-store", (response.request.path, response.status_code)
        assert response.headers.get("X-Content-Type-Options") == "nosniff"
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert [response.status_code for response in pages] == [200, 200, 200, 404, 200, 302]
    css = anonymous.get("/static/portal.css")
    assert css.status_code == 200 and css.headers.get("Cache-Control") != "no-store"
