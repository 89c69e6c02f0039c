"""A WeChat account (openid) of the mini program, optionally bound to one veteran."""

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backend.db import BigId, UTCDateTime, utcnow
from backend.extensions import db


class WechatAccount(db.Model):
    __tablename__ = "wechat_account"

    actor_type = "veteran"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    openid: Mapped[str] = mapped_column(String(64), unique=True)
    unionid: Mapped[str | None] = mapped_column(String(64))
    # One account per veteran: the unique constraint holds it under concurrent binds.
    veteran_id: Mapped[int | None] = mapped_column(ForeignKey("veteran.id"), unique=True)
    session_key_enc: Mapped[str | None] = mapped_column(String(200))  # AES-GCM ciphertext, never returned or logged
    # Bumped at logout and unbinding: every token issued before carries an older generation and is refused.
    token_generation: Mapped[int] = mapped_column(default=1)
    bind_failures: Mapped[int] = mapped_column(default=0)
    bind_locked_until: Mapped[object | None] = mapped_column(UTCDateTime)
    bound_at: Mapped[object | None] = mapped_column(UTCDateTime)
    last_login_at: Mapped[object | None] = mapped_column(UTCDateTime)
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)

    veteran = relationship("Veteran", lazy="joined")

    @property
    def label(self):
        return f"wechat:{self.id}"


class TokenFamily(db.Model):
    """Every refresh token descended from one login. Reusing a spent refresh token revokes the family, and with it
    every access and refresh token that carries its id (the `fam` claim)."""

    __tablename__ = "token_family"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("wechat_account.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[object | None] = mapped_column(UTCDateTime)
    revoked_reason: Mapped[str | None] = mapped_column(String(32))


class RefreshToken(db.Model):
    """One issued refresh token (its jti). Spent when exchanged; a second exchange is reuse."""

    __tablename__ = "refresh_token"

    jti: Mapped[str] = mapped_column(String(36), primary_key=True)
    family_id: Mapped[int] = mapped_column(ForeignKey("token_family.id", ondelete="CASCADE"), index=True)
    issued_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[object] = mapped_column(UTCDateTime)
    spent_at: Mapped[object | None] = mapped_column(UTCDateTime)


# The token check's cache listens to flushes of these models (and Veteran); import it wherever the models load.
from backend.accounts import principal  # noqa: E402,F401
