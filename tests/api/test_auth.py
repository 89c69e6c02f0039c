"""WeChat login, tokens, logout, binding: every success and failure path."""

from datetime import timedelta

import pytest
from freezegun import freeze_time
from sqlalchemy import select, text

from backend.accounts.models import WechatAccount
from backend.audit.models import AuditLog
from backend.extensions import db
from tests.api.helpers import bound_client, login, login_code, phone_code
from tests.factories import create_veteran


@pytest.fixture
def veteran(world):
    return create_veteran(station=world.x1, grid=world.x1_grid, name="赵六")


def test_login_creates_account_and_returns_tokens(api_app, fake_wechat, api):
    response = api.post("/v1/auth/login", json={"code": login_code(fake_wechat, "o-new")}, expect=200)
    body = response.get_json()
    assert set(body) == {"access_token", "refresh_token", "token_type", "expires_in", "bound"}
    assert body["bound"] is False and body["token_type"] == "Bearer"
    account = db.session.scalars(select(WechatAccount).where(WechatAccount.openid == "o-new")).one()
    assert account.session_key_enc and "session_key" not in response.get_data(as_text=True)


def test_reused_code_is_401_code_used(api_app, fake_wechat, api):
    code = login_code(fake_wechat, "o-1")
    api.post("/v1/auth/login", json={"code": code}, expect=200)
    body = api.post("/v1/auth/login", json={"code": code}, expect=401).get_json()
    assert body["error"]["code"] == "wechat.code_used"


def test_unknown_code_is_401_code_invalid(api):
    assert api.post("/v1/auth/login", json={"code": "nope"}, expect=401).get_json()["error"]["code"] == (
        "wechat.code_invalid"
    )


@pytest.mark.parametrize("body", [{}, {"code": ""}, {"code": 5}, {"code": "x" * 200}, {"code": "a", "extra": 1}])
def test_malformed_login_is_422(api, body):
    assert api.post("/v1/auth/login", json=body, expect=422).get_json()["error"]["code"] == "request.invalid"


def test_wechat_down_is_502(api_app, fake_wechat, api):
    code = login_code(fake_wechat, "o-2")
    fake_wechat.failures.append(-1)
    assert api.post("/v1/auth/login", json={"code": code}, expect=502).get_json()["error"]["code"] == (
        "wechat.unavailable"
    )


def test_refresh_gives_new_tokens_and_access_token_cannot_refresh(api_app, fake_wechat):
    client = login(api_app, fake_wechat)
    refreshed = client.post(
        "/v1/auth/refresh", headers={"Authorization": f"Bearer {client.tokens['refresh_token']}"}, expect=200
    ).get_json()
    assert refreshed["access_token"]
    wrong = client.post("/v1/auth/refresh", expect=401).get_json()  # an access token is the wrong type
    assert wrong["error"]["code"] == "auth.token_invalid"


def test_logout_revokes_access_and_refresh_tokens(api_app, fake_wechat):
    client = login(api_app, fake_wechat)
    refresh = client.tokens["refresh_token"]
    client.post("/v1/auth/logout", expect=200)
    assert client.get("/v1/subscriptions", expect=401).get_json()["error"]["code"] == "auth.token_revoked"
    client.post("/v1/auth/refresh", headers={"Authorization": f"Bearer {refresh}"}, expect=401)


def test_bind_success_then_me(api_app, fake_wechat, veteran):
    client = bound_client(api_app, fake_wechat, veteran)
    me = client.get("/v1/me", expect=200).get_json()
    assert me["name"] == "赵六" and me["id_number_masked"] == veteran.id_number_masked
    assert veteran.id_number not in str(me)
    rows = db.session.scalars(select(AuditLog).where(AuditLog.action == "veteran.bind")).all()
    assert [r.result for r in rows] == ["success"] and rows[0].org_path == veteran.station.path


def test_unbound_account_cannot_read_me(api_app, fake_wechat):
    client = login(api_app, fake_wechat)
    assert client.get("/v1/me", expect=403).get_json()["error"]["code"] == "accounts.not_bound"


@pytest.mark.parametrize("field", ["name", "id_number", "phone"])
def test_bind_mismatch_on_any_field(api_app, fake_wechat, veteran, field):
    client = login(api_app, fake_wechat)
    body = {"name": veteran.name, "id_number": veteran.id_number, "phone": veteran.phone}
    body[field] = {"name": "别人", "id_number": "11010519491231002X", "phone": "13700000000"}[field]
    response = client.post(
        "/v1/auth/bind",
        json={
            "name": body["name"],
            "id_number": body["id_number"],
            "phone_code": phone_code(fake_wechat, body["phone"]),
        },
        expect=422,
    )
    assert response.get_json()["error"]["code"] == "accounts.bind_mismatch"


def test_five_failed_binds_lock_for_30_minutes(api_app, fake_wechat, veteran):
    with freeze_time("2026-05-01 08:00:00") as frozen:
        client = login(api_app, fake_wechat)
        for attempt in range(5):
            response = client.post(
                "/v1/auth/bind",
                json={
                    "name": "错",
                    "id_number": veteran.id_number,
                    "phone_code": phone_code(fake_wechat, veteran.phone),
                },
            )
            assert response.status_code == (422 if attempt < 4 else 409)
        good = {"name": veteran.name, "id_number": veteran.id_number}
        locked = client.post("/v1/auth/bind", json={**good, "phone_code": phone_code(fake_wechat, veteran.phone)})
        assert locked.status_code == 409 and locked.get_json()["error"]["code"] == "accounts.bind_locked"
        frozen.tick(timedelta(minutes=31))
        client.post("/v1/auth/bind", json={**good, "phone_code": phone_code(fake_wechat, veteran.phone)}, expect=200)
    results = db.session.scalars(
        select(AuditLog.result).where(AuditLog.action == "veteran.bind").order_by(AuditLog.id)
    ).all()
    assert results == ["failure"] * 5 + ["success"]  # the refusal while locked happens before any attempt


def test_one_wechat_account_per_veteran(api_app, fake_wechat, veteran):
    bound_client(api_app, fake_wechat, veteran, openid="o-first")
    second = login(api_app, fake_wechat, "o-second")
    response = second.post(
        "/v1/auth/bind",
        json={
            "name": veteran.name,
            "id_number": veteran.id_number,
            "phone_code": phone_code(fake_wechat, veteran.phone),
        },
        expect=409,
    )
    assert response.get_json()["error"]["code"] == "accounts.veteran_taken"


def test_bind_twice_is_refused(api_app, fake_wechat, veteran):
    client = bound_client(api_app, fake_wechat, veteran)
    client.post(
        "/v1/auth/bind",
        json={
            "name": veteran.name,
            "id_number": veteran.id_number,
            "phone_code": phone_code(fake_wechat, veteran.phone),
        },
        expect=409,
    )


def test_used_phone_code_is_422(api_app, fake_wechat, veteran):
    client = login(api_app, fake_wechat)
    code = phone_code(fake_wechat, veteran.phone)
    fake_wechat.used.add(code)
    body = client.post(
        "/v1/auth/bind", json={"name": veteran.name, "id_number": veteran.id_number, "phone_code": code}, expect=422
    ).get_json()
    assert body["error"]["code"] == "wechat.phone_code_invalid"


def test_patch_me_changes_contact_only(api_app, fake_wechat, veteran):
    client = bound_client(api_app, fake_wechat, veteran)
    client.patch = lambda url, **kw: client.call("PATCH", url, **kw)
    me = client.patch("/v1/me", json={"address": "新住址", "phone": "+86 139-0000-1111"}, expect=200).get_json()
    assert me["address"] == "新住址" and me["phone"] == "13900001111"
    for field in ("status", "station_id", "name", "id_number", "openid", "verified"):
        body = client.patch("/v1/me", json={field: "x"}, expect=422).get_json()
        assert field in body["error"]["details"]
    db.session.refresh(veteran)
    assert veteran.name == "赵六" and veteran.status == "active"
    assert client.patch("/v1/me", json={"phone": "123"}, expect=422).get_json()["error"]["code"] == (
        "veterans.invalid_mobile"
    )


def test_staff_unbind_revokes_the_phone_at_once(api_app, portal_app, fake_wechat, world, veteran):
    from tests.helpers import portal_as

    client = bound_client(api_app, fake_wechat, veteran)
    portal = portal_as(portal_app, world.staff_x)
    portal.post(f"/veterans/{veteran.id}/unbind", expect=302)
    assert client.get("/v1/me", expect=401).get_json()["error"]["code"] == "auth.token_revoked"
    portal_as(portal_app, world.staff_y).post(f"/veterans/{veteran.id}/unbind", expect=404)


def test_session_key_never_leaves_the_server(api_app, fake_wechat, veteran, caplog):
    """S7: the session_key is in no response, no log line and not in plaintext in the database."""
    caplog.set_level("DEBUG")
    client = login(api_app, fake_wechat, "o-sk")
    bodies = [str(client.tokens)]
    bodies.append(client.get("/v1/subscriptions", expect=200).get_data(as_text=True))
    bodies.append(client.post("/v1/auth/login", json={"code": "bad"}, expect=401).get_data(as_text=True))
    keys = fake_wechat.issued_session_keys
    assert keys
    dump = " ".join(str(r) for r in db.session.execute(text("SELECT * FROM wechat_account")))
    logged = "\n".join(r.getMessage() for r in caplog.records)
    for key in keys:
        assert key not in dump and key not in logged and all(key not in b for b in bodies)


# --- issue 10: a veteran marked deceased or transferred out loses phone access at once ------------------------------

VETERAN_BLUEPRINTS = ("me", "inbox", "registration", "travel")


def _veteran_routes(api_app):
    for rule in api_app.url_map.iter_rules():
        if rule.endpoint.split(".")[0] in VETERAN_BLUEPRINTS:
            path = rule.rule.replace("<id:", "<").replace("/api", "", 1)
            for arg in rule.arguments:
                path = path.replace(f"<{arg}>", "1")
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                yield method, path


def _set_status(veteran, status):
    from backend.db import transaction

    with transaction():
        veteran.status = status


@pytest.mark.parametrize("status", ["deceased", "transferred"])
def test_inactive_veteran_is_refused_on_every_veteran_endpoint(api_app, fake_wechat, veteran, status):
    client = bound_client(api_app, fake_wechat, veteran)
    client.get("/v1/me", expect=200)
    _set_status(veteran, status)
    routes = list(_veteran_routes(api_app))
    assert len(routes) >= 10 and ("GET", "/v1/me") in routes
    raw = api_app.test_client()
    for method, path in routes:
        response = raw.open(path, method=method, headers={"Authorization": f"Bearer {client.token}"})  # no body
        assert response.status_code == 403, (method, path, response.status_code)
        error = response.get_json()["error"]
        assert error["code"] == "accounts.veteran_inactive" and "服务站" in error["message"]
    # account-level routes still answer (the person may log out); a suspended record keeps access
    client.get("/v1/subscriptions", expect=200)
    _set_status(veteran, "suspended")
    client.get("/v1/me", expect=200)


def test_binding_to_an_inactive_record_is_refused(api_app, fake_wechat, veteran):
    _set_status(veteran, "deceased")
    client = login(api_app, fake_wechat)
    body = client.post(
        "/v1/auth/bind",
        json={
            "name": veteran.name,
            "id_number": veteran.id_number,
            "phone_code": phone_code(fake_wechat, veteran.phone),
        },
        expect=403,
    ).get_json()
    assert body["error"]["code"] == "accounts.veteran_inactive"
    db.session.expire_all()
    assert db.session.scalars(select(WechatAccount).where(WechatAccount.veteran_id == veteran.id)).first() is None
    rows = db.session.scalars(select(AuditLog).where(AuditLog.action == "veteran.bind")).all()
    assert [(r.result, r.details["reason"]) for r in rows] == [("failure", "accounts.veteran_inactive")]
