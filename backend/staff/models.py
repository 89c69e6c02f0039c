"""Staff accounts and their roles."""

import secrets

from sqlalchemy import BigInteger, Boolean, ForeignKey, String, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backend.db import BigId, UTCDateTime, utcnow
from backend.extensions import db
from backend.staff.roles import ROLE_LABELS, permissions_for


def new_session_token():
    return secrets.token_urlsafe(32)  # 256 bits from the OS CSPRNG


class Staff(db.Model):
    __tablename__ = "staff"

    actor_type = "staff"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    full_name: Mapped[str] = mapped_column(String(64))
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"), index=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[object | None] = mapped_column(UTCDateTime)
    password_changed_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=True)
    # Rotated on disable, password reset and "end sessions": every portal session carries it and dies with it.
    session_token: Mapped[str] = mapped_column(String(64), default=new_session_token)
    last_login_at: Mapped[object | None] = mapped_column(UTCDateTime)
    # Second factor (TOTP): the secret sealed by backend.pii (never plaintext), when it was confirmed, and the last
    # accepted 30-second step so a code cannot be replayed.
    totp_secret_sealed: Mapped[str | None] = mapped_column(String(255))
    totp_enabled_at: Mapped[object | None] = mapped_column(UTCDateTime)
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)
    # a11y slice (issue 11): the larger-text mode (大字版), a display preference kept per account.
    large_text: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    org_unit = relationship("OrgUnit", lazy="joined")
    role_rows = relationship("StaffRole", cascade="all, delete-orphan", lazy="selectin", order_by="StaffRole.role")
    recovery_codes = relationship("StaffRecoveryCode", cascade="all, delete-orphan", lazy="select")

    @property
    def roles(self):
        # Sorted like the relationship's order_by, also before a reload (the session keeps objects after commit).
        return sorted(row.role for row in self.role_rows)

    @property
    def role_labels(self):
        return [ROLE_LABELS[r] for r in self.roles]

    @property
    def permissions(self):
        return permissions_for(self.roles)

    def can(self, permission):
        return self.is_active and permission in self.permissions

    @property
    def totp_enrolled(self):
        return self.totp_enabled_at is not None

    @property
    def scope_path(self):
        return self.org_unit.path

    # Flask-Login protocol: the session id embeds the session token, so rotating it ends every session at once.
    @property
    def is_authenticated(self):
        return True

    @property
    def is_anonymous(self):
        return False

    def get_id(self):
        return f"{self.id}:{self.session_token}"


class StaffRole(db.Model):
    __tablename__ = "staff_role"
    __table_args__ = (UniqueConstraint("staff_id", "role", name="uq_staff_role_staff_role"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(32))


class StaffRecoveryCode(db.Model):
    """A single-use recovery code for the second factor, stored as a keyed hash (backend.pii.blind_index)."""

    __tablename__ = "staff_recovery_code"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(80))
    used_at: Mapped[object | None] = mapped_column(UTCDateTime)
