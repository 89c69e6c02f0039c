"""Portal: the two-step login, TOTP enrolment at first login, recovery codes, reset by the security admin, logout on
the server, the password-change lockout, one answer for locked/disabled/wrong, role forms."""

import re
from datetime import timedelta

import pyotp
import pytest
from freezegun import freeze_time
from sqlalchemy import select

from backend.audit.models import AuditLog
from backend.extensions import db
from backend.staff import service as staff_service
from tests.factories import PASSWORD, create_staff
from tests.helpers import PortalClient, portal_as, totp_code


def _password_step(client, staff, next_url=""):
    return client.client.post(f"/login{next_url}", data={"username": staff.username, "password": PASSWORD})


def _is_anonymous(client):
    response = client.get("/")
    return response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_admin_login_takes_two_steps(portal_app, world):
    client = PortalClient(portal_app)
    response = _password_step(client, world.auditor, "?next=/audit/")
    assert response.status_code == 302 and response.headers["Location"] == "/login/verify"
    assert _is_anonymous(client)  # the password alone authenticates nothing
    page = client.get("/login/verify", expect=200).get_data(as_text=True)
    assert "动态口令" in page
    response = client.post("/login/verify", data={"code": totp_code(world.auditor.id)}, expect=302)
    assert response.headers["Location"] == "/audit/"
    client.get("/audit/", expect=200)


def test_wrong_and_replayed_codes_are_refused_in_chinese(portal_app, world):
    client = PortalClient(portal_app)
    _password_step(client, world.auditor)
    page = client.post("/login/verify", data={"code": "12ab"}, expect=200).get_data(as_text=True)
    assert "动态口令或恢复码不正确" in page
    code = totp_code(world.auditor.id)
    client.post("/login/verify", data={"code": code}, expect=302)
    other = PortalClient(portal_app)
    _password_step(other, world.auditor)
    assert "动态口令或恢复码不正确" in other.post("/login/verify", data={"code": code}).get_data(as_text=True)


def test_five_wrong_codes_lock_and_end_the_pending_login(portal_app, world):
    client = PortalClient(portal_app)
    _password_step(client, world.auditor)
    for _ in range(4):
        client.post("/login/verify", data={"code": "abcdefgh"}, expect=200)
    response = client.post("/login/verify", data={"code": "abcdefgh"}, expect=302)
    assert response.headers["Location"] == "/login"
    page = _password_step(client, world.auditor).get_data(as_text=True)
    assert "用户名或密码错误" in page  # locked, answered like a wrong password


def test_pending_login_expires_after_five_minutes(portal_app, world):
    with freeze_time("2026-05-01 08:00:00") as frozen:
        client = PortalClient(portal_app)
        _password_step(client, world.auditor)
        frozen.tick(timedelta(minutes=5, seconds=1))
        response = client.post("/login/verify", data={"code": totp_code(world.auditor.id)}, expect=302)
        assert response.headers["Location"] == "/login"
        assert _is_anonymous(client)


def test_unenrolled_admin_enrols_right_after_the_password(portal_app, world):
    admin = create_staff(unit=world.province, roles=("sys_admin",), totp=False, must_change=True)
    client = PortalClient(portal_app)
    response = _password_step(client, admin)
    assert response.headers["Location"] == "/account/totp/enrol"
    page = client.get("/account/totp/enrol", expect=200).get_data(as_text=True)
    assert "<svg" in page and "http" not in page.split("<svg", 1)[1].split("</svg>", 1)[0].replace(
        "http://www.w3.org", ""
    )  # drawn here, no external QR service
    secret = re.search(r'data-testid="totp-secret">([A-Z2-7]+)<', page).group(1)
    assert client.get("/account/totp/enrol").get_data(as_text=True).count(secret) == 1  # same secret on reload
    assert _is_anonymous(client)
    client.post("/account/totp/enrol", data={"code": "000000"}, expect=200)
    page = client.post("/account/totp/enrol", data={"code": pyotp.TOTP(secret).now()}, expect=200)
    text = page.get_data(as_text=True)
    codes = re.findall(r"<li>([a-z2-9]{5}-[a-z2-9]{5})</li>", text)
    assert len(codes) == 10 and "/account/password" in text  # the temporary password comes next
    assert client.get("/", expect=302).headers["Location"] == "/account/password"
    # The next login asks for a code; a recovery code works once.
    fresh = PortalClient(portal_app)
    _password_step(fresh, admin)
    fresh.post("/login/verify", data={"code": codes[0]}, expect=302)


def test_admin_cannot_skip_enrolment(portal_app, world):
    admin = create_staff(unit=world.province, roles=("security_admin",), totp=False)
    client = PortalClient(portal_app)
    _password_step(client, admin)
    assert _is_anonymous(client)
    assert client.get("/staff/").headers["Location"].startswith("/login")
    assert client.get("/login/verify", expect=302).headers["Location"] == "/account/totp/enrol"


def test_staff_may_enrol_voluntarily_and_then_need_the_code(portal_app, world):
    client = portal_as(portal_app, world.staff_x)
    assert "未绑定" in client.get("/account/totp", expect=200).get_data(as_text=True)
    page = client.get("/account/totp/enrol", expect=200).get_data(as_text=True)
    secret = re.search(r'data-testid="totp-secret">([A-Z2-7]+)<', page).group(1)
    client.post("/account/totp/enrol", data={"code": pyotp.TOTP(secret).now()}, expect=200)
    assert "已绑定" in client.get("/account/totp", expect=200).get_data(as_text=True)
    assert _password_step(PortalClient(portal_app), world.staff_x).headers["Location"] == "/login/verify"


def test_required_for_all_setting(portal_app, world, monkeypatch):
    monkeypatch.setitem(portal_app.config, "STAFF_TOTP_REQUIRED_FOR_ALL", True)
    response = _password_step(PortalClient(portal_app), world.staff_x)
    assert response.headers["Location"] == "/account/totp/enrol"


def test_security_admin_resets_the_second_factor(portal_app, world):
    victim = PortalClient(portal_app)
    victim.login(world.sys_admin)
    admin = portal_as(portal_app, world.security_admin)
    assert "重置动态口令" in admin.get(f"/staff/{world.sys_admin.id}", expect=200).get_data(as_text=True)
    admin.post(f"/staff/{world.sys_admin.id}/reset-totp", expect=302)
    assert _is_anonymous(victim)  # its sessions ended
    assert _password_step(PortalClient(portal_app), world.sys_admin).headers["Location"] == "/account/totp/enrol"
    row = db.session.scalars(select(AuditLog).where(AuditLog.action == "staff.totp_reset")).one()
    assert row.actor_id == world.security_admin.id


# --- logout ends the session on the server ---


def test_a_cookie_copied_before_logout_is_dead_after_it(portal_app, world):
    for staff in (world.staff_x, world.auditor):
        client = portal_as(portal_app, staff)
        cookie = client.client.get_cookie("session")
        thief = PortalClient(portal_app)
        thief.client.set_cookie("session", cookie.value)
        thief.get("/", expect=200)  # the copy works while the session lives
        client.post("/logout", expect=302)
        assert _is_anonymous(thief)


# --- the password-change form counts toward the lockout ---


def test_wrong_current_passwords_lock_the_account_and_end_the_session(portal_app, world):
    client = portal_as(portal_app, world.staff_x)
    new = "Brand-New-2026"
    data = {"current_password": "Wrong-Passw0rd", "new_password": new, "confirm_password": new}
    for _ in range(4):
        assert "当前密码不正确" in client.post("/account/password", data=data, expect=200).get_data(as_text=True)
    response = client.post("/account/password", data=data, expect=302)
    assert response.headers["Location"] == "/login"
    assert _is_anonymous(client)
    assert "用户名或密码错误" in _password_step(PortalClient(portal_app), world.staff_x).get_data(as_text=True)


# --- one answer for wrong password, locked and disabled ---


def test_locked_and_disabled_show_the_wrong_password_message(portal_app, world):
    staff_service.set_staff_active(actor=world.security_admin, staff_id=world.target.id, active=False)
    client = PortalClient(portal_app)
    disabled = _password_step(client, world.target).get_data(as_text=True)
    for _ in range(5):
        client.client.post("/login", data={"username": world.staff_y.username, "password": "x"})
    locked = _password_step(client, world.staff_y).get_data(as_text=True)
    for page in (disabled, locked):
        assert "用户名或密码错误" in page and "锁定，请" not in page and "停用" not in page


# --- role forms ---


def test_role_form_keeps_a_role_without_error(portal_app, world):
    client = portal_as(portal_app, world.security_admin)
    client.post(f"/staff/{world.staff_x.id}/roles", data={"roles": ["center_reviewer"]}, expect=302)
    db.session.expire_all()
    assert staff_service.get_staff(actor=world.security_admin, staff_id=world.staff_x.id).roles == ["center_reviewer"]


@pytest.mark.parametrize("roles", [["sys_admin", "auditor"], ["auditor", "center_reviewer"]])
def test_role_form_refuses_forbidden_combinations(portal_app, world, roles):
    client = portal_as(portal_app, world.security_admin)
    page = client.post(f"/staff/{world.target.id}/roles", data={"roles": roles}, expect=422).get_data(as_text=True)
    assert "三员分立" in page
    page = client.post(
        "/staff/new",
        data={"username": "combo", "full_name": "兼任", "org_unit_id": world.x1.id, "roles": roles},
        expect=422,
    ).get_data(as_text=True)
    assert "三员分立" in page
