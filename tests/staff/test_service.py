"""Staff accounts: login policy, passwords, roles, 三员 separation, scope."""

import pytest
from freezegun import freeze_time
from sqlalchemy import select

from backend.audit.models import AuditLog
from backend.errors import PermissionDenied
from backend.extensions import db
from backend.orgs.scope import OrgUnitNotFound
from backend.staff import service
from backend.staff.service import (
    AccountDisabled,
    AccountLocked,
    InvalidCredentials,
    PasswordPolicy,
    SelfChangeForbidden,
    StaffNotFound,
)
from tests.factories import PASSWORD, create_staff


def _audit(action):
    return db.session.scalars(select(AuditLog).where(AuditLog.action == action).order_by(AuditLog.id)).all()


def test_login_success_resets_counter_and_audits(world):
    result = service.authenticate_staff(username=world.staff_x.username, password=PASSWORD)
    assert result.staff.id == world.staff_x.id and not result.must_change_password
    rows = _audit("staff.login")
    assert [r.result for r in rows] == ["success"]
    assert rows[0].actor_id == world.staff_x.id and rows[0].request_id is None


def test_username_is_case_insensitive(world):
    assert service.authenticate_staff(username=world.staff_x.username.upper(), password=PASSWORD)


def test_unknown_user_and_wrong_password_answer_alike(world):
    with pytest.raises(InvalidCredentials) as unknown:
        service.authenticate_staff(username="nobody", password="x")
    with pytest.raises(InvalidCredentials) as wrong:
        service.authenticate_staff(username=world.staff_x.username, password="wrong")
    assert unknown.value.message == wrong.value.message
    assert [r.result for r in _audit("staff.login")] == ["failure", "failure"]


def test_fifth_failure_locks_for_15_minutes_and_right_password_is_refused(world):
    username = world.staff_x.username
    with freeze_time("2026-05-01 08:00:00"):
        for _ in range(4):
            with pytest.raises(InvalidCredentials):
                service.authenticate_staff(username=username, password="wrong")
        with pytest.raises(AccountLocked):
            service.authenticate_staff(username=username, password="wrong")
        with pytest.raises(AccountLocked):
            service.authenticate_staff(username=username, password=PASSWORD)
    with freeze_time("2026-05-01 08:14:59"):
        with pytest.raises(AccountLocked):
            service.authenticate_staff(username=username, password=PASSWORD)
    with freeze_time("2026-05-01 08:15:01"):
        assert service.authenticate_staff(username=username, password=PASSWORD).staff.id == world.staff_x.id
    assert len(_audit("staff.login")) == 8


def test_success_between_failures_resets_the_counter(world):
    username = world.staff_x.username
    for _ in range(4):
        with pytest.raises(InvalidCredentials):
            service.authenticate_staff(username=username, password="wrong")
    service.authenticate_staff(username=username, password=PASSWORD)
    for _ in range(4):
        with pytest.raises(InvalidCredentials):
            service.authenticate_staff(username=username, password="wrong")


def test_disabled_account_cannot_log_in(world):
    service.set_staff_active(actor=world.security_admin, staff_id=world.target.id, active=False)
    with pytest.raises(AccountDisabled):
        service.authenticate_staff(username=world.target.username, password=PASSWORD)


def test_password_older_than_90_days_must_change(world):
    with freeze_time("2026-01-01"):
        staff = create_staff(unit=world.x)
    with freeze_time("2026-04-02"):
        assert service.authenticate_staff(username=staff.username, password=PASSWORD).must_change_password


@pytest.mark.no_db
@pytest.mark.parametrize(
    "password", ["short1A!", "alllowercase1", "ALLUPPER1234", "NoDigitsHere", "a" * 129, "", None, "has-user1-Name"]
)
def test_password_policy_rejects_weak(password):
    with pytest.raises(PasswordPolicy):
        service.check_password_policy(password, username="user1")


@pytest.mark.no_db
def test_generated_passwords_pass_policy_and_differ():
    passwords = {service.generate_password() for _ in range(50)}
    assert len(passwords) == 50
    for p in passwords:
        service.check_password_policy(p)


def test_change_password_rotates_session_token(world):
    staff = world.staff_x
    old_token = staff.session_token
    service.change_own_password(actor=staff, current_password=PASSWORD, new_password="New-Passw0rd-2026")
    assert staff.session_token != old_token
    assert service.load_session_staff(f"{staff.id}:{old_token}") is None
    assert service.authenticate_staff(username=staff.username, password="New-Passw0rd-2026")


def test_change_password_checks_current_and_reuse(world):
    with pytest.raises(service.PasswordMismatch):
        service.change_own_password(actor=world.staff_x, current_password="bad", new_password="New-Passw0rd-2026")
    with pytest.raises(PasswordPolicy):
        service.change_own_password(actor=world.staff_x, current_password=PASSWORD, new_password=PASSWORD)


def test_create_staff_in_scope_with_temporary_password(world):
    staff, password = service.create_staff(
        actor=world.security_admin,
        username="new.clerk",
        full_name="新员工",
        org_unit_id=world.x1.id,
        roles=["station_staff"],
    )
    assert staff.must_change_password and staff.roles == ["station_staff"]
    result = service.authenticate_staff(username="new.clerk", password=password)
    assert result.must_change_password
    assert _audit("staff.create")[0].details == {"roles": ["station_staff"]}


def test_create_staff_outside_scope_is_refused_like_missing(world):
    with pytest.raises(OrgUnitNotFound):
        service.create_staff(
            actor=world.security_admin_y,
            username="intruder",
            full_name="越权",
            org_unit_id=world.x1.id,
            roles=["station_staff"],
        )


def test_create_staff_rejects_duplicate_username_bad_roles_and_fields(world):
    with pytest.raises(service.UsernameTaken):
        service.create_staff(
            actor=world.security_admin,
            username=world.staff_x.username.upper(),
            full_name="重名",
            org_unit_id=world.x.id,
            roles=["station_staff"],
        )
    with pytest.raises(service.InvalidRole):
        service.create_staff(
            actor=world.security_admin, username="r1", full_name="角色", org_unit_id=world.x.id, roles=["god"]
        )
    with pytest.raises(service.InvalidRole):
        service.create_staff(
            actor=world.security_admin, username="r2", full_name="角色", org_unit_id=world.x.id, roles=[]
        )
    from backend.errors import ValidationFailed

    with pytest.raises(ValidationFailed) as err:
        service.create_staff(
            actor=world.security_admin,
            username="bad name!",
            full_name="",
            org_unit_id=world.x.id,
            roles=["station_staff"],
        )
    assert set(err.value.details) == {"username", "full_name"}


def test_three_role_separation(world):
    """系统管理员 cannot manage accounts; 审计员 changes nothing; 安全管理员 manages accounts only."""
    for actor in (world.sys_admin, world.auditor, world.staff_x, world.supervisor_parent):
        with pytest.raises(PermissionDenied):
            service.create_staff(
                actor=actor, username="x1", full_name="x", org_unit_id=world.x.id, roles=["station_staff"]
            )
        with pytest.raises(PermissionDenied):
            service.set_staff_active(actor=actor, staff_id=world.target.id, active=False)
    assert not world.sys_admin.can("audit.view")
    assert not world.security_admin.can("audit.view")
    assert world.auditor.permissions == {"orgs.view", "audit.view"}


def test_set_roles_rotates_sessions_and_audits_before_after(world):
    token = world.target.session_token
    service.set_staff_roles(actor=world.security_admin, staff_id=world.target.id, roles=["center_reviewer"])
    assert world.target.roles == ["center_reviewer"] and world.target.session_token != token
    assert _audit("staff.roles_change")[0].details == {"before": ["station_staff"], "after": ["center_reviewer"]}


def test_security_admin_cannot_change_own_roles_or_disable_self(world):
    with pytest.raises(SelfChangeForbidden):
        service.set_staff_roles(actor=world.security_admin, staff_id=world.security_admin.id, roles=["auditor"])
    with pytest.raises(SelfChangeForbidden):
        service.set_staff_active(actor=world.security_admin, staff_id=world.security_admin.id, active=False)


def test_disable_ends_sessions_at_once(world):
    session_id = world.target.get_id()
    assert service.load_session_staff(session_id).id == world.target.id
    service.set_staff_active(actor=world.security_admin, staff_id=world.target.id, active=False)
    assert service.load_session_staff(session_id) is None
    service.set_staff_active(actor=world.security_admin, staff_id=world.target.id, active=True)
    assert service.load_session_staff(session_id) is None  # the old session stays dead


def test_reset_password_unlocks_and_forces_change(world):
    username = world.target.username
    for _ in range(5):
        with pytest.raises((InvalidCredentials, AccountLocked)):
            service.authenticate_staff(username=username, password="wrong")
    _, password = service.reset_staff_password(actor=world.security_admin, staff_id=world.target.id)
    assert service.authenticate_staff(username=username, password=password).must_change_password


def test_end_sessions(world):
    session_id = world.target.get_id()
    service.end_staff_sessions(actor=world.security_admin, staff_id=world.target.id)
    assert service.load_session_staff(session_id) is None


def test_get_and_list_staff_are_scoped(world):
    with pytest.raises(StaffNotFound):
        service.get_staff(actor=world.security_admin_y, staff_id=world.target.id)
    with pytest.raises(StaffNotFound):
        service.get_staff(actor=world.security_admin_y, staff_id="nope")
    listed = {s.id for s in service.list_staff(actor=world.security_admin_y)}
    assert world.staff_y.id in listed and world.target.id not in listed
    assert {s.id for s in service.list_staff(actor=world.security_admin, unit_id=world.x1.id)} == {world.target.id}
    with pytest.raises(OrgUnitNotFound):
        service.list_staff(actor=world.security_admin_y, unit_id=world.x1.id)


@pytest.mark.no_db
def test_load_session_staff_rejects_malformed_ids():
    for bad in (None, "", "abc", "1", "x:y"):
        assert service.load_session_staff(bad) is None


def test_session_tokens_are_long_and_random(world):
    tokens = {create_staff(unit=world.x).session_token for _ in range(5)}
    assert len(tokens) == 5 and all(len(t) >= 43 for t in tokens)  # 32 bytes = 256 bits, urlsafe base64
