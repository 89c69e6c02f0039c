"""Issue #10: role changes that keep a role, 三员分立 on combinations (service and start-up), logout on the server,
wrong current passwords counting toward the lockout, locked/disabled answering like a wrong password."""

import pytest
from freezegun import freeze_time
from sqlalchemy import select

from backend.audit.models import AuditLog
from backend.errors import AppError
from backend.extensions import db
from backend.staff import service
from backend.staff.roles import separation_conflict
from backend.staff.separation import conflicting_usernames, enforce_role_separation
from backend.staff.service import AccountDisabled, AccountLocked, InvalidCredentials, RoleConflict
from tests.factories import PASSWORD, create_staff


def _audit(action):
    return db.session.scalars(select(AuditLog).where(AuditLog.action == action).order_by(AuditLog.id)).all()


# --- a role change that keeps a role (was a unique violation, i.e. a 500, on PostgreSQL) ---


@pytest.mark.parametrize(
    ("before", "after"),
    [
        (("station_staff",), ["station_staff"]),
        (("station_staff",), ["station_staff", "center_reviewer"]),
        (("station_staff", "center_reviewer"), ["center_reviewer"]),
        (("station_staff", "center_reviewer"), ["center_reviewer", "supervisor"]),
        (("supervisor",), ["station_staff"]),
    ],
)
def test_role_change_keeping_roles_is_saved_audited_and_ends_sessions(world, before, after):
    staff = create_staff(unit=world.x1, roles=before)
    session_id = staff.get_id()
    service.set_staff_roles(actor=world.security_admin, staff_id=staff.id, roles=after)
    db.session.expire_all()
    assert db.session.get(type(staff), staff.id).roles == sorted(after)
    assert service.load_session_staff(session_id) is None
    assert _audit("staff.roles_change")[-1].details == {"before": sorted(before), "after": sorted(after)}


def test_role_change_twice_in_a_row(world):
    for roles in (["station_staff", "center_reviewer"], ["station_staff", "center_reviewer"], ["station_staff"]):
        service.set_staff_roles(actor=world.security_admin, staff_id=world.target.id, roles=roles)
    assert world.target.roles == ["station_staff"] and len(_audit("staff.roles_change")) == 3


# --- 三员分立 on combinations ---


@pytest.mark.no_db
@pytest.mark.parametrize(
    ("roles", "conflict"),
    [
        (["sys_admin", "security_admin"], True),
        (["sys_admin", "auditor"], True),
        (["security_admin", "auditor"], True),
        (["sys_admin", "security_admin", "auditor"], True),
        (["auditor", "station_staff"], True),
        (["auditor", "center_reviewer"], True),
        (["auditor", "supervisor"], True),
        (["auditor"], False),
        (["sys_admin"], False),
        (["security_admin", "supervisor"], False),
        (["station_staff", "center_reviewer"], False),
    ],
)
def test_separation_rule(roles, conflict):
    assert separation_conflict(roles) is conflict


@pytest.mark.parametrize("roles", [["sys_admin", "security_admin"], ["auditor", "station_staff"]])
def test_service_refuses_forbidden_combinations_in_chinese(world, roles):
    with pytest.raises(RoleConflict) as err:
        service.create_staff(
            actor=world.security_admin, username="combo", full_name="兼任", org_unit_id=world.x.id, roles=roles
        )
    assert "三员分立" in err.value.message and err.value.code == "staff.role_conflict" and err.value.status == 422
    with pytest.raises(RoleConflict):
        service.set_staff_roles(actor=world.security_admin, staff_id=world.target.id, roles=roles)
    assert world.target.roles == ["station_staff"] and not _audit("staff.roles_change")


def test_enabling_an_account_with_a_forbidden_combination_is_refused(world):
    legacy = create_staff(unit=world.x, roles=("auditor", "station_staff"), active=False, totp=False)
    with pytest.raises(RoleConflict):
        service.set_staff_active(actor=world.security_admin, staff_id=legacy.id, active=True)
    service.set_staff_roles(actor=world.security_admin, staff_id=legacy.id, roles=["auditor"])
    assert service.set_staff_active(actor=world.security_admin, staff_id=legacy.id, active=True).is_active


def test_startup_check_names_offending_usernames_only(world, app):
    assert conflicting_usernames() == []
    bad = create_staff(unit=world.x, roles=("sys_admin", "security_admin"), username="legacy.dual")
    create_staff(unit=world.x, roles=("auditor", "supervisor"), username="legacy.off", active=False)
    assert conflicting_usernames() == ["legacy.dual"]
    with pytest.raises(RuntimeError) as err:
        enforce_role_separation(app)
    assert "legacy.dual" in str(err.value) and "legacy.off" not in str(err.value)
    assert bad.full_name not in str(err.value)


@pytest.mark.no_db
@pytest.mark.parametrize("factory", ["admin_portal", "miniprogram_api"])
def test_factories_run_the_check_in_production_only(config, monkeypatch, factory):
    import importlib

    calls = []
    monkeypatch.setattr("backend.staff.separation.enforce_role_separation", lambda app: calls.append(app.name))
    create_app = importlib.import_module(factory).create_app
    create_app(config)
    assert calls == []
    production_like = type("ProductionLike", (config,), {"APP_ENV": "production"})
    create_app(production_like)
    assert calls == [factory]


# --- logout ends the session on the server ---


def test_logout_rotates_the_session_token(world):
    session_id = world.staff_x.get_id()
    service.record_logout(actor=world.staff_x)
    assert service.load_session_staff(session_id) is None


# --- wrong current passwords count toward the lockout ---


def test_wrong_current_password_counts_and_locks(world):
    staff = world.staff_x
    session_id = staff.get_id()
    with freeze_time("2026-05-01 08:00:00"):
        for _ in range(4):
            with pytest.raises(service.PasswordMismatch):
                service.change_own_password(actor=staff, current_password="bad", new_password="New-Passw0rd-2026")
        with pytest.raises(AccountLocked):
            service.change_own_password(actor=staff, current_password="bad", new_password="New-Passw0rd-2026")
        assert service.load_session_staff(session_id) is None  # locked: the session ends too
        with pytest.raises(AccountLocked):  # even the right password while locked
            service.change_own_password(actor=staff, current_password=PASSWORD, new_password="New-Passw0rd-2026")
        with pytest.raises(AccountLocked):
            service.authenticate_staff(username=staff.username, password=PASSWORD)
    reasons = [r.details["reason"] for r in _audit("staff.password_change")]
    assert reasons == ["bad_password"] * 4 + ["locked", "locked"]


def test_password_and_current_password_failures_share_one_counter(world):
    staff = world.staff_x
    for _ in range(3):
        with pytest.raises(InvalidCredentials):
            service.authenticate_staff(username=staff.username, password="wrong")
    service.authenticate_staff(username=staff.username, password=PASSWORD)  # resets
    for _ in range(4):
        with pytest.raises(service.PasswordMismatch):
            service.change_own_password(actor=staff, current_password="bad", new_password="New-Passw0rd-2026")
    with pytest.raises(AccountLocked):
        service.authenticate_staff(username=staff.username, password="wrong")


# --- locked and disabled answer like a wrong password ---


def _answer(error):
    return (error.code, error.status, error.message)


def test_locked_and_disabled_answer_exactly_like_a_wrong_password(world):
    with pytest.raises(AppError) as wrong:
        service.authenticate_staff(username=world.staff_x.username, password="wrong")
    service.set_staff_active(actor=world.security_admin, staff_id=world.target.id, active=False)
    with pytest.raises(AccountDisabled) as disabled:
        service.authenticate_staff(username=world.target.username, password=PASSWORD)
    for _ in range(5):
        with pytest.raises(InvalidCredentials):
            service.authenticate_staff(username=world.staff_y.username, password="wrong")
    with pytest.raises(AccountLocked) as locked:
        service.authenticate_staff(username=world.staff_y.username, password=PASSWORD)
    assert _answer(wrong.value) == _answer(disabled.value) == _answer(locked.value)
    assert _answer(wrong.value) == ("auth.invalid_credentials", 401, "用户名或密码错误")
    reasons = [r.details.get("reason") for r in _audit("staff.login")]
    assert reasons[0] == "bad_password" and reasons[1] == "disabled" and reasons[-1] == "locked"
