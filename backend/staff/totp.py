"""The staff second factor (MLPS level 3): TOTP (RFC 6238) enrolled with a QR code drawn locally, single-use recovery
codes, and reset by the security administrator.

The secret is sealed by backend.pii (bound to the account's id) and never stored in plaintext; recovery codes are kept
as keyed hashes. Codes are accepted within one 30-second step either side, and a step once used is refused (replay).
Wrong codes count toward the lockout exactly like wrong passwords (backend.staff.service.count_failure).
"""

import hmac
import secrets
from dataclasses import dataclass

import pyotp
import segno
from flask import current_app
from sqlalchemy import delete, func, select

from backend import pii
from backend.audit import service as audit_service
from backend.db import transaction, utcnow
from backend.errors import NotAuthenticated, RuleViolation
from backend.extensions import db
from backend.staff.models import Staff, StaffRecoveryCode, new_session_token
from backend.staff.service import (
    AccountLocked,
    InvalidCredentials,
    SelfChangeForbidden,
    count_failure,
    get_staff,
    is_locked,
)

STEP_SECONDS = 30
RECOVERY_CODE_COUNT = 10
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no look-alikes (0/o, 1/l/i)


class SecondFactorInvalid(NotAuthenticated):
    code = "auth.totp_invalid"
    message = "动态口令或恢复码不正确，或已使用过"


class AlreadyEnrolled(RuleViolation):
    message = "该账号已绑定动态口令"


def _secret_context(staff_id):
    return f"staff.totp_secret:{staff_id}"


def _pending_context(staff_id):
    return f"staff.totp_pending:{staff_id}"


def _normalise(code):
    return "".join(ch for ch in (code or "").lower() if ch.isalnum())[:32]


def _code_hash(staff_id, code):
    return pii.blind_index(_normalise(code), context=f"staff.recovery_code:{staff_id}")


def _code_matches(staff_id, code):
    return pii.index_in(StaffRecoveryCode.code_hash, _normalise(code), context=f"staff.recovery_code:{staff_id}")


def _step(now):
    return int(now.timestamp()) // STEP_SECONDS


def _matching_step(secret, code, now, last_step):
    """The step (now ±1) whose code equals `code` and is newer than `last_step`, or None."""
    code = (code or "").strip().replace(" ", "")
    if len(code) != 6 or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    current = _step(now)
    for step in (current - 1, current, current + 1):
        if (last_step is None or step > last_step) and hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


@dataclass
class Enrolment:
    sealed_secret: str  # the caller keeps it (in the session) until the first code confirms it
    secret: str  # shown for manual entry
    uri: str
    qr_svg: str  # inline SVG markup, drawn here (no external service sees the secret)


def begin_enrolment(staff, sealed_secret=None):
    """A new secret, or the one already being enrolled (`sealed_secret`) when the page is shown again."""
    secret = None
    if sealed_secret:
        try:
            secret = pii.decrypt(sealed_secret, context=_pending_context(staff.id))
        except Exception:  # tampered, foreign or stale: start afresh
            secret = None
    secret = secret or pyotp.random_base32()  # 160 bits from the OS CSPRNG
    uri = pyotp.TOTP(secret).provisioning_uri(name=staff.username, issuer_name=current_app.config["STAFF_TOTP_ISSUER"])
    svg = segno.make(uri, error="m").svg_inline(scale=4, border=2)
    return Enrolment(pii.encrypt(secret, context=_pending_context(staff.id)), secret, uri, svg)


def _locked_staff(staff_id, session_token):
    """The account, row-locked, while the login or session that started the step is still its own."""
    staff = db.session.scalars(
        select(Staff).where(Staff.id == staff_id).with_for_update(of=Staff).execution_options(populate_existing=True)
    ).first()
    if staff is None or not staff.is_active or not secrets.compare_digest(staff.session_token, session_token or ""):
        raise InvalidCredentials()
    return staff


def _fail(staff, now, *, action, reason):
    """Count a wrong code; at the threshold lock the account and end its sessions. Returns the error to raise."""
    locked = count_failure(staff, now)
    if locked:
        staff.session_token = new_session_token()
    audit_service.record(
        actor=staff,
        action=action,
        result="failure",
        object_type="staff",
        object_id=staff.id,
        details={"reason": "locked" if locked else reason},
    )
    return AccountLocked if locked else SecondFactorInvalid


def _new_recovery_codes(staff):
    """Replace the account's recovery codes; returns the plaintext codes, to show once."""
    db.session.execute(delete(StaffRecoveryCode).where(StaffRecoveryCode.staff_id == staff.id))
    codes = []
    for _ in range(RECOVERY_CODE_COUNT):
        raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(10))
        codes.append(f"{raw[:5]}-{raw[5:]}")
        db.session.add(StaffRecoveryCode(staff_id=staff.id, code_hash=_code_hash(staff.id, raw)))
    return codes


def _login_succeeded(staff, now, method):
    staff.failed_logins = 0
    staff.locked_until = None
    staff.last_login_at = now
    audit_service.record(
        actor=staff,
        action="staff.login",
        object_type="staff",
        object_id=staff.id,
        details={"second_factor": method},
    )


def confirm_enrolment(*, staff_id, session_token, sealed_secret, code, login=False):
    """Store the secret once a first code proves the authenticator has it; issue recovery codes.

    :param login: True when this completes a pending login (the session may start afterwards).
    :returns: (staff, recovery codes to show once)
    :raises SecondFactorInvalid: wrong code (counted toward the lockout).
    :raises InvalidCredentials: the login or session is no longer valid, or the account is (now) locked.
    :raises AlreadyEnrolled
    """
    now = utcnow()
    outcome = codes = None
    with transaction():
        staff = _locked_staff(staff_id, session_token)
        if staff.totp_enrolled:
            raise AlreadyEnrolled()
        try:
            secret = pii.decrypt(sealed_secret, context=_pending_context(staff.id)) if sealed_secret else None
        except Exception:
            secret = None
        step = _matching_step(secret, code, now, None) if secret else None
        if is_locked(staff, now):
            outcome = AccountLocked
        elif step is None:
            outcome = _fail(staff, now, action="staff.totp_enrol", reason="bad_code")
        else:
            staff.totp_secret_sealed = pii.encrypt(secret, context=_secret_context(staff.id))
            staff.totp_enabled_at = now
            staff.totp_last_step = step
            codes = _new_recovery_codes(staff)
            audit_service.record(actor=staff, action="staff.totp_enrol", object_type="staff", object_id=staff.id)
            if login:
                _login_succeeded(staff, now, "enrol")
    if outcome:
        raise outcome()
    return staff, codes


def verify_login_code(*, staff_id, session_token, code):
    """The second step of a login: a current TOTP code (not used before) or an unused recovery code.

    :raises SecondFactorInvalid: wrong or replayed code (counted toward the lockout).
    :raises InvalidCredentials: the pending login is no longer valid, or the account is (now) locked.
    """
    now = utcnow()
    outcome = None
    with transaction():
        staff = _locked_staff(staff_id, session_token)
        if not staff.totp_enrolled:
            raise InvalidCredentials()  # reset between the two steps: log in again and enrol
        if is_locked(staff, now):
            outcome = AccountLocked
        else:
            method = None
            secret = pii.decrypt(staff.totp_secret_sealed, context=_secret_context(staff.id))
            step = _matching_step(secret, code, now, staff.totp_last_step)
            if step is not None:
                staff.totp_last_step, method = step, "totp"
            elif _normalise(code) and not _normalise(code).isdigit():
                row = db.session.scalars(
                    select(StaffRecoveryCode).where(
                        StaffRecoveryCode.staff_id == staff.id,
                        _code_matches(staff.id, code),
                        StaffRecoveryCode.used_at.is_(None),
                    )
                ).first()
                if row is not None:
                    row.used_at, method = now, "recovery_code"
            if method is None:
                outcome = _fail(staff, now, action="staff.login", reason="bad_code")
            else:
                _login_succeeded(staff, now, method)
    if outcome:
        raise outcome()
    return staff


def recovery_codes_left(staff):
    return db.session.scalar(
        select(func.count())
        .select_from(StaffRecoveryCode)
        .where(StaffRecoveryCode.staff_id == staff.id, StaffRecoveryCode.used_at.is_(None))
    )


def reset_second_factor(*, actor, staff_id):
    """The security administrator clears an account's TOTP and recovery codes (lost phone); its sessions end and it
    enrols again at its next login. Audited. Raises PermissionDenied, StaffNotFound, SelfChangeForbidden."""
    with transaction():
        staff = get_staff(actor=actor, staff_id=staff_id, permission="staff.manage", lock=True)
        if staff.id == actor.id:
            raise SelfChangeForbidden()
        was_enrolled = staff.totp_enrolled
        staff.totp_secret_sealed = staff.totp_enabled_at = staff.totp_last_step = None
        db.session.execute(delete(StaffRecoveryCode).where(StaffRecoveryCode.staff_id == staff.id))
        staff.session_token = new_session_token()
        audit_service.record(
            actor=actor,
            action="staff.totp_reset",
            object_type="staff",
            object_id=staff.id,
            details={"was_enrolled": was_enrolled},
        )
    return staff
