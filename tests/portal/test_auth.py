"""Portal sessions: login, lockout, idle and absolute timeouts, disable mid-session, forced password change."""

from datetime import timedelta

import pytest
from freezegun import freeze_time
from sqlalchemy import select

from backend.audit.models import AuditLog
from backend.extensions import db
from backend.staff import service as staff_service
from tests.factories import PASSWORD, create_staff
from tests.helpers import PortalClient, portal_as


def test_login_page_renders_in_chinese(portal):
    page = portal.get("/login", expect=200).get_data(as_text=True)
    assert "工作人员登录" in page and 'lang="zh-CN"' in page


def test_login_redirects_home_and_shows_name(portal, world):
    response = portal.login(world.staff_x)
    assert response.headers["Location"] == "/"
    assert world.staff_x.full_name in portal.get("/", expect=200).get_data(as_text=True)


def test_wrong_password_shows_chinese_error(portal, world):
    page = portal.client.post("/login", data={"username": world.staff_x.username, "password": "nope"})
    assert page.status_code == 200 and "用户名或密码错误" in page.get_data(as_text=True)


def test_login_ignores_offsite_next(portal, world):
    response = portal.client.post(
        "/login?next=//evil.example/x", data={"username": world.staff_x.username, "password": PASSWORD}
    )
    assert response.headers["Location"] == "/"


def test_anonymous_is_sent_to_login(portal):
    response = portal.get("/staff/", expect=302)
    assert response.headers["Location"].startswith("/login")


def test_idle_timeout_ends_the_session(portal_app, world):
    with freeze_time("2026-05-01 08:00:00") as frozen:
        client = portal_as(portal_app, world.staff_x)
        frozen.tick(timedelta(minutes=29))
        client.get("/", expect=200)
        frozen.tick(timedelta(minutes=29))
        client.get("/", expect=200)  # activity keeps it alive
        frozen.tick(timedelta(minutes=31))
        response = client.get("/", expect=302)
        assert response.headers["Location"].startswith("/login")
        frozen.tick(timedelta(seconds=1))
        assert client.get("/", expect=302).headers["Location"].startswith("/login")


def test_absolute_lifetime_ends_the_session(portal_app, world):
    with freeze_time("2026-05-01 08:00:00") as frozen:
        client = portal_as(portal_app, world.staff_x)
        for _ in range(25):  # 12.5 hours of steady activity
            frozen.tick(timedelta(minutes=30))
            response = client.get("/")
        assert response.status_code == 302


def test_disabling_an_account_ends_its_session_at_once(portal_app, world):
    client = portal_as(portal_app, world.target)
    client.get("/", expect=200)
    staff_service.set_staff_active(actor=world.security_admin, staff_id=world.target.id, active=False)
    assert client.get("/", expect=302).headers["Location"].startswith("/login")


def test_temporary_password_forces_change_first(portal_app, world):
    staff = create_staff(unit=world.x, must_change=True)
    client = PortalClient(portal_app)
    response = client.login(staff)
    assert response.headers["Location"] == "/account/password"
    assert client.get("/orgs/", expect=302).headers["Location"] == "/account/password"
    page = client.post(
        "/account/password",
        data={"current_password": PASSWORD, "new_password": "short", "confirm_password": "short"},
        expect=200,
    ).get_data(as_text=True)
    assert "密码长度应为10-128位" in page
    client.post(
        "/account/password",
        data={"current_password": PASSWORD, "new_password": "Brand-New-2026", "confirm_password": "Brand-New-2026"},
        expect=302,
    )
    client.get("/orgs/", expect=302)  # redirects to own unit, no longer to the password page
    assert client.get("/").status_code == 200


def test_logout_requires_post_and_ends_session(portal_app, world):
    client = portal_as(portal_app, world.staff_x)
    assert client.get("/logout").status_code == 405
    client.post("/logout", expect=302)
    assert client.get("/", expect=302).headers["Location"].startswith("/login")
    actions = db.session.scalars(
        select(AuditLog.action).where(AuditLog.actor_id == world.staff_x.id).order_by(AuditLog.id)
    ).all()
    assert actions == ["staff.login", "staff.logout"]


def test_permission_refusal_is_403_page_and_audited(portal_app, world):
    client = portal_as(portal_app, world.staff_x)
    page = client.get("/audit/", expect=403).get_data(as_text=True)
    assert "没有权限" in page
    row = db.session.scalars(select(AuditLog).where(AuditLog.action == "access.denied")).one()
    assert row.result == "denied" and row.actor_id == world.staff_x.id
    assert row.details["endpoint"] == "audit.index" and row.request_id


def test_missing_page_is_chinese_404(portal_app, world):
    client = portal_as(portal_app, world.staff_x)
    assert "页面不存在" in client.get("/no/such/page", expect=404).get_data(as_text=True)


def test_security_headers(portal):
    response = portal.get("/login")
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "HttpOnly" in portal.client.post("/login", data={}).headers.get("Set-Cookie", "HttpOnly")


def test_login_is_rate_limited(portal_app):
    client = PortalClient(portal_app)
    statuses = [client.client.post("/login", data={"username": "x", "password": "y"}).status_code for _ in range(25)]
    assert 429 in statuses and 500 not in statuses
    assert statuses.index(429) == 20


@pytest.fixture(scope="module")
def csrf_portal(config):
    from admin_portal import create_app

    return create_app(type("CsrfConfig", (config,), {"WTF_CSRF_ENABLED": True}))


def test_csrf_is_enforced_when_enabled(csrf_portal):
    response = csrf_portal.test_client().post("/login", data={"username": "a", "password": "b"})
    assert response.status_code == 400 and "页面已过期" in response.get_data(as_text=True)


@pytest.fixture(scope="module")
def boom_portal(config):
    from admin_portal import create_app

    app = create_app(config)
    app.add_url_rule("/_boom", "boom", lambda: 1 / 0)
    return app


def test_unexpected_error_page_hides_internals(boom_portal):
    response = boom_portal.test_client().get("/_boom")
    text = response.get_data(as_text=True)
    assert response.status_code == 500 and "系统繁忙" in text
    for leak in ("Traceback", "ZeroDivision", ".py"):
        assert leak not in text
