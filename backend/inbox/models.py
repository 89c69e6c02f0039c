"""Inbox messages."""

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from backend.db import BigId, UTCDateTime, utcnow
from backend.extensions import db


class InboxMessage(db.Model):
    __tablename__ = "inbox_message"
    __table_args__ = (
        Index("ix_inbox_message_veteran_id_id", "veteran_id", "id"),
        Index("ix_inbox_message_veteran_unread", "veteran_id", "read_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    veteran_id: Mapped[int] = mapped_column(ForeignKey("veteran.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))  # e.g. system, registration.returned, care
    title: Mapped[str] = mapped_column(String(100))
    body: Mapped[str] = mapped_column(Text)
    link: Mapped[str | None] = mapped_column(String(200))  # a mini program page
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[object | None] = mapped_column(UTCDateTime)
