"""The staff second factor: enrolment, ±1 step window, replay refusal, recovery codes, lockout, sealing, reset."""

from datetime import timedelta

import pyotp
import pytest
from freezegun import freeze_time
from sqlalchemy import select, text

from backend.audit.models import AuditLog
from backend.errors import PermissionDenied
from backend.extensions import db
from backend.staff import service, totp
from backend.staff.models import StaffRecoveryCode
from backend.staff.service import AccountLocked, InvalidCredentials, SelfChangeForbidden
from tests.factories import PASSWORD, TOTP_SECRET, create_staff

T0 = "2026-05-01 08:00:10"


def _audit(action):
    return db.session.scalars(select(AuditLog).where(AuditLog.action == action).order_by(AuditLog.id)).all()


def _code(offset_steps=0, secret=TOTP_SECRET):
    step = totp._step(service.utcnow()) + offset_steps
    return pyotp.TOTP(secret).generate_otp(step)


def _verify(staff, code):
    return totp.verify_login_code(staff_id=staff.id, session_token=staff.session_token, code=code)


@pytest.mark.parametrize("role", ["sys_admin", "security_admin", "auditor"])
def test_admin_roles_need_the_second_factor(world, role):
    admin = create_staff(unit=world.province, roles=(role,), totp=False)
    assert service.authenticate_staff(username=admin.username, password=PASSWORD).second_factor == "enrol"
    assert service.authenticate_staff(username=world.auditor.username, password=PASSWORD).second_factor == "verify"
    assert service.authenticate_staff(username=world.staff_x.username, password=PASSWORD).second_factor is None


def test_setting_extends_it_to_everyone(world, app, monkeypatch):
    monkeypatch.setitem(app.config, "STAFF_TOTP_REQUIRED_FOR_ALL", True)
    assert service.authenticate_staff(username=world.staff_x.username, password=PASSWORD).second_factor == "enrol"


def test_password_step_alone_does_not_log_in(world):
    service.authenticate_staff(username=world.auditor.username, password=PASSWORD)
    assert world.auditor.last_login_at is None
    assert [r.action for r in _audit("staff.login_password")] == ["staff.login_password"]
    assert not _audit("staff.login")


def test_enrolment_seals_the_secret_and_issues_ten_single_use_recovery_codes(world):
    staff = world.staff_x
    enrolment = totp.begin_enrolment(staff)
    assert enrolment.qr_svg.startswith("<svg") and "otpauth://totp/" in enrolment.uri
    assert enrolment.secret not in enrolment.sealed_secret
    code = pyotp.TOTP(enrolment.secret).now()
    staff, codes = totp.confirm_enrolment(
        staff_id=staff.id, session_token=staff.session_token, sealed_secret=enrolment.sealed_secret, code=code
    )
    assert staff.totp_enrolled and len(codes) == 10 and len(set(codes)) == 10
    stored = db.session.execute(text("SELECT totp_secret_sealed FROM staff WHERE id = :i"), {"i": staff.id}).scalar()
    assert stored and enrolment.secret not in stored
    hashes = db.session.scalars(select(StaffRecoveryCode.code_hash).where(StaffRecoveryCode.staff_id == staff.id))
    assert not set(hashes) & {c.replace("-", "") for c in codes}
    assert _audit("staff.totp_enrol")[0].result == "success"
    # A recovery code works once, in any case and with or without the dash.
    assert _verify(staff, codes[0].upper().replace("-", " ")).id == staff.id
    with pytest.raises(totp.SecondFactorInvalid):
        _verify(staff, codes[0])
    assert totp.recovery_codes_left(staff) == 9


def test_a_secret_sealed_for_one_account_does_not_open_for_another(world):
    enrolment = totp.begin_enrolment(world.staff_x)
    with pytest.raises(totp.SecondFactorInvalid):
        totp.confirm_enrolment(
            staff_id=world.staff_y.id,
            session_token=world.staff_y.session_token,
            sealed_secret=enrolment.sealed_secret,
            code=pyotp.TOTP(enrolment.secret).now(),
        )
    assert not world.staff_y.totp_enrolled


def test_wrong_enrolment_code_is_refused_and_counted(world):
    enrolment = totp.begin_enrolment(world.staff_x)
    with pytest.raises(totp.SecondFactorInvalid):
        totp.confirm_enrolment(
            staff_id=world.staff_x.id,
            session_token=world.staff_x.session_token,
            sealed_secret=enrolment.sealed_secret,
            code="000000" if pyotp.TOTP(enrolment.secret).now() != "000000" else "111111",
        )
    assert world.staff_x.failed_logins == 1 and not world.staff_x.totp_enrolled


def test_window_is_one_step_either_side(world):
    staff = world.auditor
    with freeze_time(T0):
        for offset in (-2, 2):
            with pytest.raises(totp.SecondFactorInvalid):
                _verify(staff, _code(offset))
        assert _verify(staff, _code(-1)).id == staff.id
        assert _verify(staff, _code(1)).id == staff.id


def test_a_code_cannot_be_replayed(world):
    staff = world.auditor
    with freeze_time(T0) as frozen:
        code = _code()
        _verify(staff, code)
        with pytest.raises(totp.SecondFactorInvalid):
            _verify(staff, code)
        with pytest.raises(totp.SecondFactorInvalid):  # an older step, still in the window, is also spent
            _verify(staff, _code(-1))
        frozen.tick(timedelta(seconds=30))
        assert _verify(staff, _code()).id == staff.id
    assert [r.details.get("reason") for r in _audit("staff.login") if r.result == "failure"] == ["bad_code"] * 2


def test_wrong_codes_lock_the_account_like_wrong_passwords(world):
    staff = world.auditor
    with freeze_time(T0):
        for _ in range(2):
            with pytest.raises(InvalidCredentials):
                service.authenticate_staff(username=staff.username, password="wrong")
        service.authenticate_staff(username=staff.username, password=PASSWORD)  # does not reset the counter
        for _ in range(2):
            with pytest.raises(totp.SecondFactorInvalid):
                _verify(staff, "12345x")
        token = staff.session_token
        with pytest.raises(AccountLocked):
            totp.verify_login_code(staff_id=staff.id, session_token=token, code="99999999")
        with pytest.raises(InvalidCredentials):  # the pending login died with the lock
            totp.verify_login_code(staff_id=staff.id, session_token=token, code=_code())
        with pytest.raises(AccountLocked):
            service.authenticate_staff(username=staff.username, password=PASSWORD)
    assert _audit("staff.login")[-1].details == {"reason": "locked"}


def test_success_resets_the_counter(world):
    staff = world.auditor
    with freeze_time(T0):
        for _ in range(4):
            with pytest.raises(totp.SecondFactorInvalid):
                _verify(staff, "000000" if _code() != "000000" else "111111")
        _verify(staff, _code())
    assert staff.failed_logins == 0 and staff.last_login_at is not None
    assert _audit("staff.login")[-1].details == {"second_factor": "totp"}


def test_a_pending_login_dies_when_the_account_is_disabled(world):
    staff = world.auditor
    token = staff.session_token
    service.set_staff_active(actor=world.security_admin, staff_id=staff.id, active=False)
    with pytest.raises(InvalidCredentials):
        totp.verify_login_code(staff_id=staff.id, session_token=token, code=_code())


def test_reset_by_the_security_admin_is_audited_and_forces_reenrolment(world):
    staff = world.sys_admin
    session_id = staff.get_id()
    totp.reset_second_factor(actor=world.security_admin, staff_id=staff.id)
    assert not staff.totp_enrolled and staff.totp_secret_sealed is None
    assert service.load_session_staff(session_id) is None
    assert service.authenticate_staff(username=staff.username, password=PASSWORD).second_factor == "enrol"
    row = _audit("staff.totp_reset")[0]
    assert row.actor_id == world.security_admin.id and row.object_id == str(staff.id)
    assert row.details == {"was_enrolled": True}


def test_reset_is_for_the_security_admin_in_scope_and_not_for_oneself(world):
    for actor in (world.sys_admin, world.auditor, world.staff_x):
        with pytest.raises(PermissionDenied):
            totp.reset_second_factor(actor=actor, staff_id=world.target.id)
    with pytest.raises(service.StaffNotFound):
        totp.reset_second_factor(actor=world.security_admin_y, staff_id=world.target.id)
    with pytest.raises(SelfChangeForbidden):
        totp.reset_second_factor(actor=world.security_admin, staff_id=world.security_admin.id)
