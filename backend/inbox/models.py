"""Inbox messages."""

from sqlalchemy import Boolean, ForeignKey, Index, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from backend.db import BigId, UTCDateTime, utcnow
from backend.extensions import db


class InboxMessage(db.Model):
    __tablename__ = "inbox_message"
    __table_args__ = (
        Index("ix_inbox_message_veteran_id_id", "veteran_id", "id"),
        Index("ix_inbox_message_veteran_unread", "veteran_id", "read_at"),
        # notifications slice (issue 13): one inbox entry per (notification, veteran), however often a task runs
        UniqueConstraint("notification_id", "veteran_id", name="uq_inbox_message_notification_veteran"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    veteran_id: Mapped[int] = mapped_column(ForeignKey("veteran.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))  # e.g. system, registration.returned, care
    title: Mapped[str] = mapped_column(String(100))
    body: Mapped[str] = mapped_column(Text)
    link: Mapped[str | None] = mapped_column(String(200))  # a mini program page
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[object | None] = mapped_column(UTCDateTime)
    notification_id: Mapped[int | None] = mapped_column(ForeignKey("notification.id", ondelete="SET NULL"))
    # issue 19: education reminders ask for 「我已阅读并知悉」 (POST /inbox/{id}/acknowledge)
    requires_ack: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    acknowledged_at: Mapped[object | None] = mapped_column(UTCDateTime)
