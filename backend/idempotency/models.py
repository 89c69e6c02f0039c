"""A claimed Idempotency-Key of a phone account and the first answer it replays (sealed: may hold personal data)."""

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from backend.db import BigId, UTCDateTime, utcnow
from backend.extensions import db

CONTEXT = "idempotency.response"


class IdempotencyKey(db.Model):
    __tablename__ = "idempotency_key"
    # The unique constraint is the claim: of two concurrent INSERTs of one (account, key), exactly one succeeds.
    __table_args__ = (
        UniqueConstraint("account_id", "key", name="uq_idempotency_key_account_id_key"),
        Index("ix_idempotency_key_expires_at", "expires_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("wechat_account.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(64))
    request_hash: Mapped[str] = mapped_column(String(64))  # sha256 hex of method, path and body
    state: Mapped[str] = mapped_column(String(16), default="in_progress")  # in_progress | done
    response_status: Mapped[int | None] = mapped_column(Integer)
    response_type: Mapped[str | None] = mapped_column(String(128))
    response_sealed: Mapped[str | None] = mapped_column(Text)  # pii.encrypt of the body, context CONTEXT
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[object] = mapped_column(UTCDateTime)
