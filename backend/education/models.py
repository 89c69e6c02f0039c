"""Education reminders (Art. 5): campaigns delivered through the notification pipeline and acknowledged in the inbox,
and in-person sessions with attendance."""

from sqlalchemy import JSON, Boolean, CheckConstraint, Date, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from backend.db import BigId, UTCDateTime, utcnow
from backend.extensions import db

KINDS = ("political", "confidentiality")  # 政治教育 | 保密提醒
CAMPAIGN_STATES = ("draft", "sent")


def _in(column, values):
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class EducationCampaign(db.Model):
    """A reminder to a target group within scope, with a due date for the acknowledgement."""

    __tablename__ = "education_campaign"
    __table_args__ = (
        Index("ix_education_campaign_unit_id_id", "unit_id", "id"),
        CheckConstraint(_in("kind", KINDS), name="kind_known"),
        CheckConstraint(_in("state", CAMPAIGN_STATES), name="state_known"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"))  # the sender's unit: scope
    kind: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(60))
    content: Mapped[str] = mapped_column(Text)
    links: Mapped[list] = mapped_column(JSON, default=list)  # [{"title", "url"}]: the unit's own materials
    audience: Mapped[dict] = mapped_column(JSON, default=dict)  # notifications' audience filter (recipients.py)
    due_on: Mapped[object] = mapped_column(Date)
    state: Mapped[str] = mapped_column(String(8), default="draft")
    notification_id: Mapped[int | None] = mapped_column(ForeignKey("notification.id"))
    recipient_count: Mapped[int] = mapped_column(default=0)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[object | None] = mapped_column(UTCDateTime)
    chased_at: Mapped[object | None] = mapped_column(UTCDateTime)  # the unacknowledged went to the call list


class EducationSession(db.Model):
    """An in-person session (集中学习) of a unit."""

    __tablename__ = "education_session"
    __table_args__ = (
        Index("ix_education_session_unit_id_id", "unit_id", "id"),
        CheckConstraint(_in("kind", KINDS), name="kind_known"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"))
    kind: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(60))
    held_on: Mapped[object] = mapped_column(Date)
    place: Mapped[str] = mapped_column(String(100))
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("education_campaign.id"))
    created_by_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)


class EducationAttendance(db.Model):
    """A veteran's attendance of a session, recorded by staff."""

    __tablename__ = "education_attendance"
    __table_args__ = (
        UniqueConstraint("session_id", "veteran_id", name="uq_education_attendance_session_veteran"),
        Index("ix_education_attendance_veteran_id", "veteran_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("education_session.id", ondelete="CASCADE"))
    veteran_id: Mapped[int] = mapped_column(ForeignKey("veteran.id", ondelete="CASCADE"))
    attended: Mapped[bool] = mapped_column(Boolean, default=True)
    note: Mapped[str | None] = mapped_column(String(200))
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
