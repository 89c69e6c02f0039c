"""Templates (versioned), notifications, per-recipient deliveries, the call list, and veteran tags."""

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from backend.db import BigId, UTCDateTime, utcnow
from backend.extensions import db


class MessageTemplate(db.Model):
    """One per template key (backend/notifications/kinds.py); its versions hold the WeChat mapping."""

    __tablename__ = "message_template"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    key: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(50))
    current_version_id: Mapped[int | None] = mapped_column(BigInteger)  # message_template_version.id
    updated_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class MessageTemplateVersion(db.Model):
    """Never changed once written: a sent notification points at the version it went out with."""

    __tablename__ = "message_template_version"
    __table_args__ = (UniqueConstraint("template_id", "number", name="uq_message_template_version_number"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    template_id: Mapped[int] = mapped_column(ForeignKey("message_template.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(default=1)
    wechat_template_id: Mapped[str | None] = mapped_column(String(64))  # None: inbox only
    long_term: Mapped[bool] = mapped_column(Boolean, default=False)
    page: Mapped[str | None] = mapped_column(String(200))  # the mini program page the card opens
    # [{"key": "thing1", "label": "通知标题", "value": "{标题}"}]: WeChat key (type + number), label, pattern
    fields: Mapped[list] = mapped_column(JSON, default=list)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)


class Notification(db.Model):
    """One message to one or many veterans: a care notification composed by staff, or a system event."""

    __tablename__ = "notification"
    __table_args__ = (
        Index("ix_notification_status_scheduled_at", "status", "scheduled_at"),
        Index("ix_notification_sender_unit_id_id", "sender_unit_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(String(8), default="system")  # staff | system
    template_version_id: Mapped[int | None] = mapped_column(ForeignKey("message_template_version.id"))
    title: Mapped[str] = mapped_column(String(100))
    body: Mapped[str] = mapped_column(Text)  # may hold {变量}; rendered per veteran into the inbox
    link: Mapped[str | None] = mapped_column(String(200))
    variables: Mapped[dict] = mapped_column(JSON, default=dict)  # values shared by every recipient (日期, 地点 …)
    sender_unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_unit.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    audience: Mapped[dict] = mapped_column(JSON, default=dict)  # the recipient filter (never personal data)
    status: Mapped[str] = mapped_column(String(16), default="draft")
    scheduled_at: Mapped[object | None] = mapped_column(UTCDateTime)
    approval_needed: Mapped[bool] = mapped_column(Boolean, default=False)
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    approved_at: Mapped[object | None] = mapped_column(UTCDateTime)
    follow_up: Mapped[bool] = mapped_column(Boolean, default=False)  # unread/unbound recipients go to the call list
    recipient_count: Mapped[int] = mapped_column(BigInteger, default=0)
    materialized_to: Mapped[int | None] = mapped_column(BigInteger)  # recipients written up to this veteran id
    materialized: Mapped[bool] = mapped_column(Boolean, default=False)
    paused_until: Mapped[object | None] = mapped_column(UTCDateTime)  # WeChat's daily quota (45009)
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[object | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[object | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    version_id: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version_id}


class NotificationPick(db.Model):
    """Hand-picked or uploaded recipients of a staff notification (resolved to veterans within scope)."""

    __tablename__ = "notification_pick"

    notification_id: Mapped[int] = mapped_column(ForeignKey("notification.id", ondelete="CASCADE"), primary_key=True)
    veteran_id: Mapped[int] = mapped_column(ForeignKey("veteran.id", ondelete="CASCADE"), primary_key=True)


class Delivery(db.Model):
    """One recipient of one notification: exactly one inbox entry and at most one WeChat send."""

    __tablename__ = "delivery"
    __table_args__ = (
        UniqueConstraint("notification_id", "veteran_id", name="uq_delivery_notification_veteran"),
        Index("ix_delivery_notification_id_id", "notification_id", "id"),
        Index("ix_delivery_notification_status", "notification_id", "status"),
        Index("ix_delivery_veteran_id_id", "veteran_id", "id"),
        Index("ix_delivery_msgid", "msgid"),
        Index("ix_delivery_status_updated_at", "status", "updated_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    notification_id: Mapped[int] = mapped_column(ForeignKey("notification.id", ondelete="CASCADE"))
    veteran_id: Mapped[int] = mapped_column(ForeignKey("veteran.id", ondelete="CASCADE"))
    # queued -> sending (claimed, credit spent) -> sent | failed; or skipped (no credit, not bound, refused)
    status: Mapped[str] = mapped_column(String(12), default="queued")
    skip_reason: Mapped[str | None] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(default=0)
    msgid: Mapped[str | None] = mapped_column(String(32))  # WeChat's 64-bit msgid, as text
    error_code: Mapped[int | None]
    error_message: Mapped[str | None] = mapped_column(String(200))
    result: Mapped[str | None] = mapped_column(String(12))  # success | fail | refused (subscribe_msg_sent_event)
    result_code: Mapped[int | None]
    result_at: Mapped[object | None] = mapped_column(UTCDateTime)
    next_attempt_at: Mapped[object | None] = mapped_column(UTCDateTime)
    claimed_at: Mapped[object | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[object | None] = mapped_column(UTCDateTime)
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class CallTask(db.Model):
    """电话联系任务: a veteran a message did not reach (unread after N days, or not bound to WeChat)."""

    __tablename__ = "call_task"
    __table_args__ = (
        UniqueConstraint("delivery_id", name="uq_call_task_delivery"),
        Index("ix_call_task_station_status_id", "station_id", "status", "id"),
        Index("ix_call_task_veteran_id", "veteran_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    veteran_id: Mapped[int] = mapped_column(ForeignKey("veteran.id", ondelete="CASCADE"))
    station_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"))
    notification_id: Mapped[int] = mapped_column(ForeignKey("notification.id", ondelete="CASCADE"))
    delivery_id: Mapped[int] = mapped_column(ForeignKey("delivery.id", ondelete="CASCADE"))
    reason: Mapped[str] = mapped_column(String(16))  # unread | unbound
    status: Mapped[str] = mapped_column(String(8), default="open")  # open | done
    outcome: Mapped[str | None] = mapped_column(String(16))  # reached | no_answer | wrong_number | declined
    note: Mapped[str | None] = mapped_column(String(300))
    handled_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    handled_at: Mapped[object | None] = mapped_column(UTCDateTime)
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)


class VeteranTag(db.Model):
    """Free tags on a veteran (重点关注, 高龄, 困难 …), used to pick notification recipients."""

    __tablename__ = "veteran_tag"
    __table_args__ = (Index("ix_veteran_tag_tag_veteran_id", "tag", "veteran_id"),)

    veteran_id: Mapped[int] = mapped_column(ForeignKey("veteran.id", ondelete="CASCADE"), primary_key=True)
    tag: Mapped[str] = mapped_column(String(20), primary_key=True)
