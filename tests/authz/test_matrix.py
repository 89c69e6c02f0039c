"""The authorization matrix (S13): every registered route of both apps x every role, against objects of unit X.

A route missing from MATRIX fails test_every_route_is_in_the_matrix. Each cell is one test: the principal makes the
request and the answer is classified as allow or deny; 0 unexpected allows, 0 unexpected denies.

Principals (tests/factories.py build_world): X and Y are sibling counties under a city; objects of X live at
station X1 under X. Administrators and the auditor sit at the province; *_y administrators sit at Y.
"""

import io

import pytest

from tests.authz.cells import (
    EVERYONE,
    ORG_VIEWERS_OF_X,
    PRINCIPALS,
    REG_VIEWERS_OF_X,
    STAFF,
    TRAVEL_VIEWERS_OF_X,
    VETERAN_VIEWERS_OF_X,
    VETERANS,
    Cell,
    _in_days,
    _signed,
    _year,
)
from tests.authz.export_cells import EXPORT_CELLS
from tests.authz.slice_cells import SLICE_CELLS
from tests.factories import PASSWORD, unique, valid_id_number
from tests.files import samples
from tests.helpers import PortalClient
from tests.veterans.test_import import sheet_bytes

pytestmark = pytest.mark.shared_world  # issue 21: one world, each cell rolled back (tests/shared_world.py)

MATRIX = {
    # --- portal ---
    ("portal", "static", "GET"): Cell("GET", "/static/portal.css", EVERYONE, public=True),
    ("portal", "bootstrap.static", "GET"): Cell(
        "GET", "/bootstrap/static/css/bootstrap.min.css", EVERYONE, public=True
    ),
    ("portal", "auth.login", "GET"): Cell("GET", "/login", EVERYONE, public=True),
    ("portal", "auth.login", "POST"): Cell(
        "POST", "/login", EVERYONE, data={"username": "x", "password": "y"}, public=True
    ),
    ("portal", "auth.logout", "POST"): Cell("POST", "/logout", EVERYONE, public=True),
    ("portal", "auth.change_password", "GET"): Cell("GET", "/account/password", STAFF),
    ("portal", "auth.change_password", "POST"): Cell(
        "POST",
        "/account/password",
        STAFF,
        data={"current_password": PASSWORD, "new_password": "Matrix-Passw0rd", "confirm_password": "Matrix-Passw0rd"},
    ),
    # staffsec slice (issue 10): the second login step, TOTP enrolment and status, reset by the security admin
    ("portal", "auth.verify", "GET"): Cell(
        "GET", "/login/verify", EVERYONE, public=True, notes="without a pending login it sends to /login"
    ),
    ("portal", "auth.verify", "POST"): Cell("POST", "/login/verify", EVERYONE, data={"code": "000000"}, public=True),
    ("portal", "auth.enrol", "GET"): Cell(
        "GET", "/account/totp/enrol", STAFF, notes="a pending login or a session; enrolled accounts go to the status"
    ),
    ("portal", "auth.enrol", "POST"): Cell("POST", "/account/totp/enrol", STAFF, data={"code": "000000"}),
    ("portal", "auth.totp_status", "GET"): Cell("GET", "/account/totp", STAFF),
    # a11y slice (issue 11): one's own 大字版 preference
    ("portal", "auth.large_text", "POST"): Cell(
        "POST", "/account/preferences/large-text", STAFF, data={"large_text": "1"}
    ),
    ("portal", "staff.reset_totp", "POST"): Cell(
        "POST", lambda w: f"/staff/{w.target.id}/reset-totp", ("security_admin",)
    ),
    ("portal", "home.index", "GET"): Cell("GET", "/", STAFF),
    ("portal", "orgs.index", "GET"): Cell("GET", "/orgs/", STAFF),
    ("portal", "orgs.detail", "GET"): Cell("GET", lambda w: f"/orgs/{w.x1.id}", ORG_VIEWERS_OF_X),
    ("portal", "orgs.tree", "GET"): Cell("GET", lambda w: f"/orgs/tree?for=orgs&parent={w.x1.id}", ORG_VIEWERS_OF_X),
    ("portal", "orgs.create_child", "POST"): Cell(
        "POST", lambda w: f"/orgs/{w.x1.id}/children", ("sys_admin",), data=lambda w: {"child-name": unique("网格")}
    ),
    ("portal", "orgs.rename", "POST"): Cell(
        "POST", lambda w: f"/orgs/{w.x1.id}/rename", ("sys_admin",), data=lambda w: {"rename-name": unique("服务站")}
    ),
    ("portal", "staff.index", "GET"): Cell("GET", lambda w: f"/staff/?unit={w.x1.id}", ("sys_admin", "security_admin")),
    ("portal", "staff.create", "GET"): Cell("GET", "/staff/new", ("security_admin", "security_admin_y")),
    ("portal", "staff.create", "POST"): Cell(
        "POST",
        "/staff/new",
        ("security_admin",),
        data=lambda w: {"username": unique("m"), "full_name": "矩阵", "org_unit_id": w.x1.id, "roles": "station_staff"},
        notes="security_admin_y names a unit outside its subtree: refused like a missing unit",
    ),
    ("portal", "staff.detail", "GET"): Cell("GET", lambda w: f"/staff/{w.target.id}", ("sys_admin", "security_admin")),
    ("portal", "staff.set_roles", "POST"): Cell(
        "POST", lambda w: f"/staff/{w.target.id}/roles", ("security_admin",), data={"roles": "center_reviewer"}
    ),
    ("portal", "staff.disable", "POST"): Cell("POST", lambda w: f"/staff/{w.target.id}/disable", ("security_admin",)),
    ("portal", "staff.enable", "POST"): Cell("POST", lambda w: f"/staff/{w.target.id}/enable", ("security_admin",)),
    ("portal", "staff.end_sessions", "POST"): Cell(
        "POST", lambda w: f"/staff/{w.target.id}/end-sessions", ("security_admin",)
    ),
    ("portal", "staff.reset_password", "POST"): Cell(
        "POST", lambda w: f"/staff/{w.target.id}/reset-password", ("security_admin",)
    ),
    ("portal", "audit.index", "GET"): Cell("GET", "/audit/", ("auditor",)),
    ("portal", "audit.verify", "GET"): Cell("GET", "/audit/verify", ("auditor",)),
    ("portal", "veterans.index", "GET"): Cell("GET", lambda w: f"/veterans/?unit={w.x1.id}", VETERAN_VIEWERS_OF_X),
    ("portal", "veterans.search", "POST"): Cell(
        "POST",
        "/veterans/search",
        ("staff_x", "staff_y", "supervisor_parent"),
        data=lambda w: {"id_number": w.veteran.id_number},
        notes="results are scoped; the redirect carries the HMAC",
    ),
    ("portal", "veterans.create", "GET"): Cell("GET", "/veterans/new", ("staff_x", "staff_y")),
    ("portal", "veterans.create", "POST"): Cell(
        "POST",
        "/veterans/new",
        ("staff_x",),
        data=lambda w: {"name": "矩阵", "id_number": valid_id_number(), "station_id": w.x1.id, "status": "active"},
        notes="staff_y names a station outside its subtree: the same answer as a station that does not exist",
    ),
    ("portal", "veterans.detail", "GET"): Cell("GET", lambda w: f"/veterans/{w.veteran.id}", VETERAN_VIEWERS_OF_X),
    # lists slice (issue 11): a veteran's whole timeline
    ("portal", "veterans.timeline", "GET"): Cell(
        "GET", lambda w: f"/veterans/{w.veteran.id}/timeline", VETERAN_VIEWERS_OF_X
    ),
    ("portal", "veterans.unbind", "POST"): Cell("POST", lambda w: f"/veterans/{w.veteran.id}/unbind", ("staff_x",)),
    ("portal", "veterans.reveal", "POST"): Cell("POST", lambda w: f"/veterans/{w.veteran.id}/reveal", ("staff_x",)),
    ("portal", "veterans.edit", "GET"): Cell("GET", lambda w: f"/veterans/{w.veteran.id}/edit", ("staff_x",)),
    ("portal", "veterans.edit", "POST"): Cell(
        "POST",
        lambda w: f"/veterans/{w.veteran.id}/edit",
        ("staff_x",),
        data=lambda w: {"name": "改名", "id_number": w.veteran.id_number, "status": "active"},
    ),
    ("portal", "veterans.move", "POST"): Cell(
        "POST", lambda w: f"/veterans/{w.veteran.id}/move", ("staff_x",), data=lambda w: {"station_id": w.x1.id}
    ),
    ("portal", "veterans.import_sheet", "GET"): Cell("GET", "/veterans/import", ("staff_x", "staff_y")),
    ("portal", "veterans.import_sheet", "POST"): Cell(
        "POST",
        "/veterans/import",
        ("staff_x", "staff_y"),
        data=lambda w: {"file": (io.BytesIO(sheet_bytes([])), "a.xlsx")},
        notes="each importer's job is scoped to its own unit",
    ),
    ("portal", "veterans.import_status", "GET"): Cell(
        "GET", lambda w: f"/veterans/import/{w.import_job.id}", ("staff_x",)
    ),
    # import slice (issue 11): the template, and the rejected rows of a job (scoped like the job)
    ("portal", "veterans.import_template", "GET"): Cell(
        "GET", "/veterans/import/template.xlsx", ("staff_x", "staff_y")
    ),
    ("portal", "veterans.import_rejected", "GET"): Cell(
        "GET", lambda w: f"/veterans/import/{w.import_job.id}/rejected.xlsx", ("staff_x",)
    ),
    ("portal", "veterans.coverage", "GET"): Cell(
        "GET", lambda w: f"/veterans/coverage?unit={w.x.id}", VETERAN_VIEWERS_OF_X
    ),
    ("portal", "registration.index", "GET"): Cell("GET", lambda w: f"/registration/?unit={w.x.id}", REG_VIEWERS_OF_X),
    ("portal", "registration.detail", "GET"): Cell(
        "GET", lambda w: f"/registration/{w.registration.id}", REG_VIEWERS_OF_X
    ),
    ("portal", "registration.approve", "POST"): Cell(
        "POST",
        lambda w: f"/registration/{w.registration.id}/approve",
        ("staff_x",),
        data=lambda w: {"version": w.registration.version_id},
    ),
    ("portal", "registration.return_for_correction", "POST"): Cell(
        "POST",
        lambda w: f"/registration/{w.registration.id}/return",
        ("staff_x",),
        data=lambda w: {"version": w.registration.version_id, "reason_contact": "电话不通"},
    ),
    ("portal", "registration.flag", "POST"): Cell(
        "POST",
        lambda w: f"/registration/{w.registration.id}/flag",
        ("staff_x",),
        data={"concern": "关注", "scheduled_at": "2099-01-01T10:00", "place": "服务站"},
    ),
    ("portal", "registration.record_talk", "POST"): Cell(
        "POST", lambda w: f"/registration/talks/{w.talk.id}/record", ("staff_x",), data={"outcome": "已谈", "held": "1"}
    ),
    ("portal", "registration.bulk_approve", "POST"): Cell(
        "POST",
        "/registration/bulk-approve",
        ("staff_x", "staff_y"),
        data=lambda w: {"item": f"{w.registration.id}:{w.registration.version_id}"},
        notes="staff_y's request is authorized but the foreign id is skipped like a missing one",
    ),
    ("portal", "registration.onsite", "GET"): Cell(
        "GET", lambda w: f"/registration/onsite/{w.veteran.id}", ("staff_x",)
    ),
    ("portal", "registration.onsite", "POST"): Cell(
        "POST",
        lambda w: f"/registration/onsite/{w.veteran.id}",
        ("staff_x",),
        data={"action": "save", "party_participated": "1", "employment_status": "employed", "phone": "13900001111"},
    ),
    ("portal", "registration.windows_admin", "GET"): Cell("GET", "/registration/windows", ("sys_admin", "sys_admin_y")),
    ("portal", "registration.windows_admin", "POST"): Cell(
        "POST",
        "/registration/windows",
        ("sys_admin",),
        data=lambda w: {"closes_on": f"{_year()}-04-15", "unit_id": w.x.id},
    ),
    ("portal", "registration.figures", "GET"): Cell(
        "GET", lambda w: f"/registration/figures?unit={w.x.id}", REG_VIEWERS_OF_X
    ),
    # workbench slice (issue 11): the charts' JSON, scoped like the figures pages they sit on
    ("portal", "charts.registration", "GET"): Cell(
        "GET", lambda w: f"/charts/registration.json?unit={w.x.id}", REG_VIEWERS_OF_X
    ),
    ("portal", "charts.coverage", "GET"): Cell(
        "GET", lambda w: f"/charts/coverage.json?unit={w.x.id}", VETERAN_VIEWERS_OF_X
    ),
    ("api", "registration.get_current", "GET"): Cell("GET", "/v1/registrations/current", VETERANS),
    ("api", "registration.save_draft", "PUT"): Cell("PUT", "/v1/registrations/current", VETERANS, data={"content": {}}),
    ("api", "registration.delete_draft", "DELETE"): Cell("DELETE", "/v1/registrations/current", VETERANS),
    ("api", "registration.submit", "POST"): Cell(
        "POST",
        "/v1/registrations/current/submit",
        VETERANS,
        notes="each has a full draft: 200 in the window, 409 outside",
    ),
    ("api", "registration.list_past", "GET"): Cell("GET", "/v1/registrations", VETERANS),
    ("api", "registration.upload_attachment", "POST"): Cell(
        "POST",
        "/v1/registrations/current/attachments",
        VETERANS,
        multipart=True,
        data=lambda w: {"section": "employment", "file": (io.BytesIO(samples.pdf()), "a.pdf")},  # a real PDF
        notes="201 in the window, 409 outside: both past authorization",
    ),
    ("api", "registration.delete_attachment", "DELETE"): Cell(
        "DELETE", lambda w: f"/v1/registrations/current/attachments/{w.attachment.id}", ("veteran_a",)
    ),
    ("portal", "registration.download_attachment", "GET"): Cell(
        "GET", lambda w: f"/registration/attachments/{w.attachment.id}", REG_VIEWERS_OF_X
    ),
    ("portal", "travel.index", "GET"): Cell("GET", lambda w: f"/travel/?unit={w.x.id}", TRAVEL_VIEWERS_OF_X),
    ("portal", "travel.detail", "GET"): Cell("GET", lambda w: f"/travel/{w.trip.id}", TRAVEL_VIEWERS_OF_X),
    ("portal", "travel.note", "POST"): Cell(
        "POST", lambda w: f"/travel/{w.trip.id}/note", ("staff_x",), data={"note": "已联系"}
    ),
    ("portal", "travel.record", "GET"): Cell("GET", lambda w: f"/travel/record/{w.veteran.id}", ("staff_x",)),
    ("portal", "travel.record", "POST"): Cell(
        "POST",
        lambda w: f"/travel/record/{w.veteran.id}",
        ("staff_x",),
        data=lambda w: {
            "channel": "counter",
            "consent": "1",
            "destination": "TH",
            "purpose": "family",
            "document_type": "passport",
            "planned_departure": _in_days(3),
            "planned_return": _in_days(9),
        },
    ),
    ("api", "travel.consent_status", "GET"): Cell("GET", "/v1/travels/consent", VETERANS),
    ("api", "travel.give_consent", "POST"): Cell(
        "POST", "/v1/travels/consent", VETERANS, data={"notice_version": "2026-1"}
    ),
    ("api", "travel.list_trips", "GET"): Cell("GET", "/v1/travels", VETERANS),
    ("api", "travel.report", "POST"): Cell(
        "POST",
        "/v1/travels",
        VETERANS,
        notes="veteran B has not consented: 409, past authorization",
        data=lambda w: {
            "destination": "KR",
            "purpose": "tourism",
            "document_type": "passport",
            "planned_departure": _in_days(3),
            "planned_return": _in_days(9),
        },
    ),
    ("api", "travel.depart", "POST"): Cell(
        "POST", lambda w: f"/v1/travels/{w.trip.id}/depart", ("veteran_a",), data={}
    ),
    ("api", "travel.report_return", "POST"): Cell(
        "POST", lambda w: f"/v1/travels/{w.trip.id}/return", ("veteran_a",), data=lambda w: {"returned_on": _in_days(0)}
    ),
    ("api", "travel.cancel", "POST"): Cell("POST", lambda w: f"/v1/travels/{w.trip.id}/cancel", ("veteran_a",)),
    # --- mini program API ---
    ("api", "api-docs.openapi_json", "GET"): Cell("GET", "/openapi.json", EVERYONE, public=True),
    ("api", "system.health", "GET"): Cell("GET", "/v1/health", EVERYONE, public=True),
    ("api", "auth_public.login", "POST"): Cell(
        "POST",
        "/v1/auth/login",
        EVERYONE,
        public=True,
        data=lambda w: {"code": w.fake.mint(w.fake.login_codes, "o-matrix")},
    ),
    ("api", "auth_public.refresh", "POST"): Cell("POST", "/v1/auth/refresh", VETERANS, token="refresh"),
    ("api", "wechat.verify_url", "GET"): Cell(
        "GET",
        lambda w: f"/v1/wechat/events?{_signed()}&echostr=1",
        EVERYONE,
        public=True,
        notes="authenticated by WeChat's signature, not a token",
    ),
    ("api", "wechat.receive", "POST"): Cell(
        "POST",
        lambda w: f"/v1/wechat/events?{_signed()}",
        EVERYONE,
        public=True,
        data=lambda w: '{"Event": "debug_demo", "FromUserName": "o", "CreateTime": 1}',
    ),
    ("api", "auth.logout", "POST"): Cell("POST", "/v1/auth/logout", VETERANS),
    ("api", "auth.bind", "POST"): Cell(
        "POST",
        "/v1/auth/bind",
        VETERANS,
        data={"name": "x", "id_number": "x", "phone_code": "x"},
        notes="already bound: 409, i.e. past authorization",
    ),
    ("api", "subscriptions.list_subscriptions", "GET"): Cell("GET", "/v1/subscriptions", VETERANS),
    ("api", "subscriptions.report", "POST"): Cell("POST", "/v1/subscriptions", VETERANS, data={"results": {}}),
    ("api", "me.get_me", "GET"): Cell("GET", "/v1/me", VETERANS),
    ("api", "me.patch_me", "PATCH"): Cell("PATCH", "/v1/me", VETERANS, data={"address": "矩阵路1号"}),
    ("api", "inbox.list_inbox", "GET"): Cell("GET", "/v1/inbox", VETERANS),
    ("api", "inbox.unread_count", "GET"): Cell("GET", "/v1/inbox/unread-count", VETERANS),
    ("api", "inbox.mark_read", "POST"): Cell("POST", lambda w: f"/v1/inbox/{w.message_a.id}/read", ("veteran_a",)),
    **EXPORT_CELLS,  # exports slice (issue 12): tests/authz/export_cells.py
    **SLICE_CELLS,  # notifications (issue 13), bookings (issue 14) …: tests/authz/slice_cells.py
}


def registered_routes(portal_app, api_app):
    routes = set()
    for name, flask_app in (("portal", portal_app), ("api", api_app)):
        for rule in flask_app.url_map.iter_rules():
            for method in rule.methods - {"HEAD", "OPTIONS"}:
                routes.add((name, rule.endpoint, method))
    return routes


def test_every_route_is_in_the_matrix(portal_app, api_app):
    routes = registered_routes(portal_app, api_app)
    missing = routes - set(MATRIX)
    stale = set(MATRIX) - routes
    assert not missing, f"routes missing from the authorization matrix: {sorted(missing)}"
    assert not stale, f"matrix rows for routes that no longer exist: {sorted(stale)}"
    print(
        f"authorization matrix: {len(MATRIX)} routes x {len(PRINCIPALS)} principals = {len(MATRIX) * len(PRINCIPALS)}"
    )


def _resolve(value, world):
    return value(world) if callable(value) else value


def _classify(app_name, cell, response):
    status = response.status_code
    assert status < 500, f"server error {status}"
    location = response.headers.get("Location", "")
    if cell.public:
        return "deny" if status in (401, 403, 404) else "allow"
    if status in (401, 403, 404, 422):  # 422: a write naming a unit outside the subtree, same as a missing one
        return "deny"
    if status == 409:  # past authorization, refused by a business rule (e.g. binding an already bound account)
        return "allow"
    if app_name == "portal" and status == 302 and location.startswith("/login"):
        return "deny"
    if 200 <= status < 400:
        return "allow"
    raise AssertionError(f"unclassified answer {status} {response.get_data(as_text=True)[:300]}")


@pytest.mark.parametrize("principal", PRINCIPALS)
@pytest.mark.parametrize("route", sorted(MATRIX), ids=lambda r: f"{r[0]}:{r[1]}:{r[2]}")
def test_matrix_cell(route, principal, shared_world, portal_app, api_app, monkeypatch, fake_wechat):
    monkeypatch.setattr("backend.tasks.enqueue", lambda task, *args, **kw: None)
    world, tokens = shared_world.world, shared_world.tokens  # built once, rolled back after each cell
    world.objects["fake"] = fake_wechat
    app_name = route[0]
    cell = MATRIX[route]
    headers = {}
    if app_name == "portal":
        client = PortalClient(portal_app)
        if principal not in ("anonymous", *VETERANS):
            client.login(getattr(world, principal))
        raw = client.client
    else:
        raw = api_app.test_client()
        if principal in VETERANS:
            headers["Authorization"] = f"Bearer {tokens[principal][cell.token + '_token']}"
    data = _resolve(cell.data, world)
    if app_name == "api" and isinstance(data, dict) and not cell.multipart:
        kwargs = {"json": data}
    else:
        kwargs = {"data": data}
    response = raw.open(_resolve(cell.url, world), method=cell.method, headers=headers, **kwargs)
    expected = "allow" if principal in cell.allowed else "deny"
    response.get_data()
    response.close()
    actual = _classify(app_name, cell, response)
    assert actual == expected, f"{principal} on {route}: expected {expected}, got {actual} ({response.status_code})"
