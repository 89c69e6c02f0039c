"""Registration windows, registrations, their timeline, and talks (约谈)."""

from sqlalchemy import JSON, Boolean, Date, FetchedValue, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backend import pii
from backend.db import BigId, UTCDateTime, utcnow
from backend.extensions import db

STATUS_LABELS = {
    "draft": "草稿",
    "submitted": "待审核",
    "returned": "退回补正",
    "approved": "已通过",
    "overdue": "逾期未报",
}
CONTENT_CONTEXT = "registration.content"
CHANNEL_LABELS = {"online": "小程序", "onsite": "现场办理", "portal": "管理端", "system": "系统"}
ACTION_LABELS = {
    "draft_created": "创建草稿",
    "submitted": "提交",
    "resubmitted": "补正后重新提交",
    "returned": "退回补正",
    "approved": "审核通过",
    "flagged": "记录关注事项并安排约谈",
    "talk_held": "完成约谈",
    "talk_cancelled": "取消约谈",
    "overdue": "逾期未报",
}


class RegistrationWindow(db.Model):
    """The window in force for a year: system-wide (unit_id NULL) or for one unit's subtree (an extension)."""

    __tablename__ = "registration_window"
    __table_args__ = (UniqueConstraint("year", "unit_id", name="uq_registration_window_year_unit"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    year: Mapped[int]
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_unit.id"))
    opens_on: Mapped[object] = mapped_column(Date)
    closes_on: Mapped[object] = mapped_column(Date)
    set_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)

    unit = relationship("OrgUnit")


class Registration(db.Model):
    __tablename__ = "registration"
    __table_args__ = (
        UniqueConstraint("veteran_id", "year", name="uq_registration_veteran_year"),
        Index("ix_registration_year_status", "year", "status"),
        Index("ix_registration_unit_id", "unit_id"),
        Index("ix_registration_decided_at", "decided_at"),  # the daily prompt to rate (issue 20, migration 0028)
        # The overdue job's keyset over the year's drafts: empty (so free) outside the closing days.
        Index(
            "ix_registration_draft_year_id",
            "year",
            "id",
            postgresql_where=text("status = 'draft'"),
            sqlite_where=text("status = 'draft'"),
        ),
        # The 有关注事项 tab (few rows): its capped count and list read only the flagged rows.
        Index(
            "ix_registration_flagged_year_path",
            "year",
            "unit_path",
            postgresql_where=text("flagged"),
            sqlite_where=text("flagged"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    veteran_id: Mapped[int] = mapped_column(ForeignKey("veteran.id", ondelete="CASCADE"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"))  # the veteran's unit: data scope
    # lists slice (issue 12): org_unit.path of unit_id, set by a database trigger on every write of unit_id
    # (migration 0016), so the review queue reads a subtree as a range of the queue indexes (queries.py).
    unit_path: Mapped[str | None] = mapped_column(
        String(255).with_variant(String(255, collation="C"), "postgresql"),
        server_default=FetchedValue(),
        server_onupdate=FetchedValue(),
    )
    year: Mapped[int]
    status: Mapped[str] = mapped_column(String(16), default="draft")
    form_version: Mapped[int] = mapped_column(default=1)
    # The answers (contact phone, trips abroad, ...) sealed with AES-GCM; read and write through `content`.
    content_sealed: Mapped[str | None] = mapped_column(Text)
    channel: Mapped[str] = mapped_column(String(16), default="online")
    entered_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    return_reasons: Mapped[dict] = mapped_column(JSON, default=dict)  # {section: reason}
    flagged: Mapped[bool] = mapped_column(Boolean, default=False)
    submitted_at: Mapped[object | None] = mapped_column(UTCDateTime)
    first_submitted_at: Mapped[object | None] = mapped_column(UTCDateTime)
    decided_at: Mapped[object | None] = mapped_column(UTCDateTime)
    reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    version_id: Mapped[int] = mapped_column(default=1)

    veteran = relationship("Veteran", lazy="joined")
    entered_by = relationship("Staff", foreign_keys=[entered_by_id])
    reviewer = relationship("Staff", foreign_keys=[reviewer_id])

    __mapper_args__ = {"version_id_col": version_id}

    @property
    def content(self):
        return pii.open_sealed(self, self.content_sealed, context=CONTENT_CONTEXT) if self.content_sealed else {}

    @content.setter
    def content(self, value):
        self.content_sealed = pii.encrypt_json(value or {}, context=CONTENT_CONTEXT)

    @property
    def status_label(self):
        return STATUS_LABELS.get(self.status, self.status)


class RegistrationEvent(db.Model):
    """The timeline: who, when, what, from which channel."""

    __tablename__ = "registration_event"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    registration_id: Mapped[int] = mapped_column(ForeignKey("registration.id", ondelete="CASCADE"), index=True)
    occurred_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)
    actor_type: Mapped[str] = mapped_column(String(16))  # veteran | staff | system
    actor_id: Mapped[int | None] = mapped_column(BigId)
    actor_label: Mapped[str | None] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(32))
    details: Mapped[dict] = mapped_column(JSON, default=dict)


class Talk(db.Model):
    """约谈 opened by a concern (苗头性问题): scheduled, then held with its outcome, or cancelled."""

    __tablename__ = "registration_talk"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    registration_id: Mapped[int] = mapped_column(ForeignKey("registration.id", ondelete="CASCADE"), index=True)
    concern: Mapped[str] = mapped_column(Text)
    scheduled_at: Mapped[object] = mapped_column(UTCDateTime)
    place: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(16), default="scheduled")  # scheduled | held | cancelled
    outcome: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)


class RegistrationReminder(db.Model):
    """One row per reminder sent, so each reminder goes out once however often the job runs."""

    __tablename__ = "registration_reminder"
    __table_args__ = (UniqueConstraint("veteran_id", "year", "kind", name="uq_registration_reminder_once"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    veteran_id: Mapped[int] = mapped_column(ForeignKey("veteran.id", ondelete="CASCADE"))
    year: Mapped[int]
    kind: Mapped[str] = mapped_column(String(16))  # opening | closing
    sent_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)


class RegistrationAttachment(db.Model):
    """A proof file; stored under `stored_name` (server-made), never under anything the user sent."""

    __tablename__ = "registration_attachment"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    registration_id: Mapped[int] = mapped_column(ForeignKey("registration.id", ondelete="CASCADE"), index=True)
    section: Mapped[str] = mapped_column(String(32))
    stored_name: Mapped[str] = mapped_column(String(64), unique=True)
    content_type: Mapped[str] = mapped_column(String(64))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    display_name: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)
