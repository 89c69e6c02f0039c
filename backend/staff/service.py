"""Staff accounts: login policy, passwords, roles, disabling. Managed by security administrators within scope."""

import secrets
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import func, select
from werkzeug.security import check_password_hash

from backend.audit import service as audit_service
from backend.db import transaction, utcnow
from backend.errors import NotAuthenticated, NotFound, RuleViolation, ValidationFailed
from backend.extensions import db
from backend.names import clean_name
from backend.orgs.models import OrgUnit
from backend.orgs.scope import get_scoped, get_unit_in_scope, require_permission, scoped
from backend.staff.models import Staff, StaffRole, new_session_token
from backend.staff.passwords import _DUMMY_HASH, PasswordPolicy, _hash, check_password_policy, generate_password
from backend.staff.roles import ADMIN_ROLES, ROLES, separation_conflict


class StaffNotFound(NotFound):
    code = "staff.not_found"
    message = "未找到该工作人员"


class InvalidCredentials(NotAuthenticated):
    code = "auth.invalid_credentials"
    message = "用户名或密码错误"


# Locked and disabled accounts answer exactly like a wrong password (code, status, message): no account enumeration.
# The classes stay distinct so the service, its tests and the audit row keep the real reason.
class AccountLocked(InvalidCredentials):
    pass


class AccountDisabled(InvalidCredentials):
    pass


class PasswordMismatch(ValidationFailed):
    code = "auth.password_mismatch"
    message = "当前密码不正确"


class UsernameTaken(RuleViolation):
    code = "staff.username_taken"
    message = "该用户名已被使用"


class SelfChangeForbidden(RuleViolation):
    code = "staff.self_change_forbidden"
    message = "不能停用自己的账号或变更自己的角色"


class InvalidRole(ValidationFailed):
    code = "staff.invalid_role"
    message = "请至少选择一个有效角色"


class RoleConflict(ValidationFailed):
    code = "staff.role_conflict"
    message = "三员分立：系统管理员、安全管理员、审计员不能由同一账号兼任，审计员也不能兼任业务角色"


def _clean_roles(roles):
    roles = sorted(set(roles or []))
    if not roles or any(r not in ROLES for r in roles):
        raise InvalidRole(details={"roles": InvalidRole.message})
    if separation_conflict(roles):
        raise RoleConflict(details={"roles": RoleConflict.message})
    return roles


def second_factor_required(staff):
    """The three administrator roles always need TOTP; everyone when STAFF_TOTP_REQUIRED_FOR_ALL; anyone enrolled."""
    return (
        staff.totp_enrolled
        or bool(set(staff.roles) & ADMIN_ROLES)
        or bool(current_app.config.get("STAFF_TOTP_REQUIRED_FOR_ALL"))
    )


def count_failure(staff, now):
    """A wrong password or code: count it, and lock the account at the threshold. Returns True when now locked."""
    cfg = current_app.config
    staff.failed_logins += 1
    if staff.failed_logins >= cfg["STAFF_LOCK_AFTER_FAILURES"]:
        staff.locked_until = now + timedelta(minutes=cfg["STAFF_LOCK_MINUTES"])
        staff.failed_logins = 0
        return True
    return False


def is_locked(staff, now):
    return bool(staff.locked_until and staff.locked_until > now)


@dataclass
class LoginResult:
    staff: Staff
    must_change_password: bool
    # None: the session may start; "verify": a TOTP or recovery code is due; "enrol": TOTP enrolment is due first.
    second_factor: str | None = None


def authenticate_staff(*, username, password):
    """Check a portal login's password. Five consecutive failures (passwords or codes) lock the account for 15 minutes.

    When a second factor is due, the failure counter is left alone until the code is checked, so a correct password
    cannot wipe the count of wrong codes.

    :returns: LoginResult; the session (or the pending second step) is the caller's to start.
    :raises InvalidCredentials: unknown user, wrong password, locked or disabled account: one message and code for
        all, so accounts cannot be enumerated (AccountLocked and AccountDisabled are subclasses; the audit row
        records the real reason).
    """
    cfg = current_app.config
    now = utcnow()
    username = (username or "").strip()[:64]
    outcome = None
    step = None
    with transaction():
        staff = db.session.scalars(
            select(Staff).where(func.lower(Staff.username) == username.lower()).with_for_update(of=Staff)
        ).first()
        if staff is None:
            check_password_hash(_DUMMY_HASH, password or "")
            outcome = InvalidCredentials
            audit_service.record(actor=None, action="staff.login", result="failure", details={"reason": "unknown_user"})
        elif not staff.is_active:
            check_password_hash(_DUMMY_HASH, password or "")
            outcome = AccountDisabled
        elif is_locked(staff, now):
            check_password_hash(_DUMMY_HASH, password or "")
            outcome = AccountLocked
        elif not check_password_hash(staff.password_hash, password or ""):
            outcome = AccountLocked if count_failure(staff, now) else InvalidCredentials
        elif second_factor_required(staff):
            step = "verify" if staff.totp_enrolled else "enrol"
        else:
            staff.failed_logins = 0
            staff.locked_until = None
            staff.last_login_at = now
        if staff is not None:
            reason = {InvalidCredentials: "bad_password", AccountLocked: "locked", AccountDisabled: "disabled"}
            audit_service.record(
                actor=staff,
                action="staff.login_password" if step else "staff.login",
                result="failure" if outcome else "success",
                object_type="staff",
                object_id=staff.id,
                details={"reason": reason[outcome]} if outcome else ({"second_factor": step} if step else {}),
            )
    if outcome:
        raise outcome()
    max_age = timedelta(days=cfg["STAFF_PASSWORD_MAX_AGE_DAYS"])
    return LoginResult(
        staff=staff,
        must_change_password=staff.must_change_password or now - staff.password_changed_at > max_age,
        second_factor=step,
    )


def load_session_staff(session_id):
    """The active staff member a portal session id ("<id>:<session token>") names, or None."""
    try:
        staff_id, token = session_id.split(":", 1)
        staff = db.session.get(Staff, int(staff_id))
    except (AttributeError, ValueError):
        return None
    if staff is None or not staff.is_active or not secrets.compare_digest(staff.session_token, token):
        return None
    return staff


def record_logout(*, actor):
    """End the session on the server: the session token rotates, so a copy of the cookie dies with it.

    Every session of the account ends (the token is per account), which is the safe reading of "log out".
    """
    with transaction():
        actor.session_token = new_session_token()
        audit_service.record(actor=actor, action="staff.logout", object_type="staff", object_id=actor.id)


def change_own_password(*, actor, current_password, new_password):
    """Change the actor's own password; other sessions end (the session token rotates).

    A wrong current password counts toward the lockout like a wrong login; at the threshold the account locks and
    every session of it ends.

    :raises PasswordMismatch: the current password is wrong.
    :raises AccountLocked: the account is locked (by this failure or before); the session has ended.
    :raises PasswordPolicy: the new password is weak or equals the current one.
    """
    check_password_policy(new_password, actor.username)
    now = utcnow()
    outcome = None
    with transaction():
        db.session.refresh(actor, with_for_update={"of": Staff})
        if is_locked(actor, now):
            outcome = AccountLocked
        elif not check_password_hash(actor.password_hash, current_password or ""):
            outcome = AccountLocked if count_failure(actor, now) else PasswordMismatch
        if outcome is AccountLocked:
            actor.session_token = new_session_token()
        if outcome:
            audit_service.record(
                actor=actor,
                action="staff.password_change",
                result="failure",
                object_type="staff",
                object_id=actor.id,
                details={"reason": "locked" if outcome is AccountLocked else "bad_password"},
            )
    if outcome is PasswordMismatch:
        raise PasswordMismatch(details={"current_password": PasswordMismatch.message})
    if outcome:
        raise outcome()
    if check_password_hash(actor.password_hash, new_password):
        raise PasswordPolicy("新密码不能与当前密码相同", details={"new_password": "新密码不能与当前密码相同"})
    with transaction():
        actor.password_hash = _hash(new_password)
        actor.password_changed_at = now
        actor.must_change_password = False
        actor.failed_logins = 0
        actor.session_token = new_session_token()
        audit_service.record(actor=actor, action="staff.password_change", object_type="staff", object_id=actor.id)
    return actor


def list_staff(*, actor, unit_id=None, query_text=None, limit=200):
    """Staff accounts in the actor's subtree (or in the subtree of `unit_id`, itself in scope), by unit then name."""
    require_permission(actor, "staff.view")
    query = scoped(select(Staff), actor, Staff.org_unit_id)
    if unit_id:
        unit = get_unit_in_scope(actor, unit_id)
        query = query.where(Staff.org_unit_id.in_(select(OrgUnit.id).where(OrgUnit.path.startswith(unit.path))))
    if query_text:
        like = f"%{query_text.strip()}%"
        query = query.where(Staff.username.ilike(like) | Staff.full_name.ilike(like))
    return db.session.scalars(query.order_by(Staff.org_unit_id, Staff.username).limit(limit)).all()


def get_staff(*, actor, staff_id, permission="staff.view", lock=False):
    """A staff account in the actor's subtree. Raises PermissionDenied, StaffNotFound."""
    require_permission(actor, permission)
    return get_scoped(Staff, staff_id, actor=actor, unit_column=Staff.org_unit_id, not_found=StaffNotFound, lock=lock)


def create_staff(*, actor, username, full_name, org_unit_id, roles, password=None):
    """Create an account in a unit of the actor's subtree with a temporary password to change at first login.

    :returns: (staff, temporary_password), the password to hand over once.
    :raises PermissionDenied, OrgUnitNotFound, UsernameTaken, InvalidRole, ValidationFailed
    """
    require_permission(actor, "staff.manage")
    username = (username or "").strip()
    full_name = clean_name(full_name)
    errors = {}
    if not username or len(username) > 64 or not all(c.isalnum() or c in "._-" for c in username):
        errors["username"] = "用户名须为1-64位字母、数字或 . _ -"
    if not full_name or len(full_name) > 64:
        errors["full_name"] = "姓名不能为空，且不超过64个字"
    if errors:
        raise ValidationFailed(details=errors)
    roles = _clean_roles(roles)
    password = password or generate_password()
    check_password_policy(password, username)
    with transaction():
        unit = get_unit_in_scope(actor, org_unit_id)
        if db.session.scalar(select(func.count()).where(func.lower(Staff.username) == username.lower())):
            raise UsernameTaken(details={"username": UsernameTaken.message})
        staff = Staff(
            username=username,
            full_name=full_name,
            org_unit_id=unit.id,
            password_hash=_hash(password),
            must_change_password=True,
            role_rows=[StaffRole(role=r) for r in roles],
        )
        db.session.add(staff)
        db.session.flush()
        audit_service.record(
            actor=actor, action="staff.create", object_type="staff", object_id=staff.id, details={"roles": roles}
        )
    return staff, password


def set_staff_roles(*, actor, staff_id, roles):
    """Replace an account's roles and end its sessions (every call, even one that keeps some roles).

    Only the difference is written: rows of kept roles stay, so the unique (staff, role) row is never deleted and
    re-inserted in one flush (that was a unique violation, i.e. a 500, on PostgreSQL).

    :raises PermissionDenied, StaffNotFound, InvalidRole, RoleConflict, SelfChangeForbidden
    """
    roles = _clean_roles(roles)
    with transaction():
        staff = get_staff(actor=actor, staff_id=staff_id, permission="staff.manage", lock=True)
        if staff.id == actor.id:
            raise SelfChangeForbidden()
        before = staff.roles
        wanted = set(roles)
        for row in [r for r in staff.role_rows if r.role not in wanted]:
            staff.role_rows.remove(row)
        db.session.flush()  # deletes first, so the inserts below can never collide with a row being removed
        staff.role_rows.extend(StaffRole(role=r) for r in sorted(wanted - set(before)))
        staff.session_token = new_session_token()  # new rights take effect at the next login
        audit_service.record(
            actor=actor,
            action="staff.roles_change",
            object_type="staff",
            object_id=staff.id,
            details={"before": before, "after": roles},
        )
    return staff


def set_staff_active(*, actor, staff_id, active):
    """Disable (ending every session at once) or re-enable an account."""
    with transaction():
        staff = get_staff(actor=actor, staff_id=staff_id, permission="staff.manage", lock=True)
        if staff.id == actor.id:
            raise SelfChangeForbidden()
        if active and separation_conflict(staff.roles):
            raise RoleConflict(details={"roles": RoleConflict.message})
        staff.is_active = active
        staff.session_token = new_session_token()
        if active:
            staff.failed_logins, staff.locked_until = 0, None
        action = "staff.enable" if active else "staff.disable"
        audit_service.record(actor=actor, action=action, object_type="staff", object_id=staff.id)
    return staff


def reset_staff_password(*, actor, staff_id):
    """Set a new temporary password (returned once), unlock the account and end its sessions."""
    password = generate_password()
    with transaction():
        staff = get_staff(actor=actor, staff_id=staff_id, permission="staff.manage", lock=True)
        if staff.id == actor.id:
            raise SelfChangeForbidden()
        staff.password_hash = _hash(password)
        staff.must_change_password = True
        staff.password_changed_at = utcnow()
        staff.failed_logins, staff.locked_until = 0, None
        staff.session_token = new_session_token()
        audit_service.record(actor=actor, action="staff.password_reset", object_type="staff", object_id=staff.id)
    return staff, password


def end_staff_sessions(*, actor, staff_id):
    """End every portal session of an account (it logs in again)."""
    with transaction():
        staff = get_staff(actor=actor, staff_id=staff_id, permission="staff.manage", lock=True)
        staff.session_token = new_session_token()
        audit_service.record(actor=actor, action="staff.end_sessions", object_type="staff", object_id=staff.id)
    return staff
