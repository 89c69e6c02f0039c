"""Regular contact (常态化联系, issue 16): per-unit policies, a contact plan per veteran, and the contacts made."""

from sqlalchemy import JSON, Boolean, CheckConstraint, Date, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from backend.db import BigId, UTCDateTime, utcnow
from backend.extensions import db

WAYS = {"phone": "电话", "home_visit": "上门走访", "at_station": "来站面谈", "wechat": "微信"}
FLAGS = {
    "unemployed": "失业待业",
    "ill": "患病",
    "family_difficulty": "家庭困难",
    "dispute": "矛盾纠纷",
    "concern": "思想波动/苗头性问题",
}
NOTES_CONTEXT = "care.contact_notes"  # pii context of ContactRecord.notes_sealed: {"thought", "work", "life"}


class ContactPolicy(db.Model):
    """A unit's contact intervals; the nearest unit up the tree with a policy wins (backend/care/plans.py)."""

    __tablename__ = "care_contact_policy"
    __table_args__ = (
        CheckConstraint("interval_days BETWEEN 1 AND 730", name="interval_days_range"),
        CheckConstraint("attention_interval_days BETWEEN 1 AND 730", name="attention_interval_days_range"),
    )

    unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"), primary_key=True)
    interval_days: Mapped[int] = mapped_column(default=90)
    attention_interval_days: Mapped[int] = mapped_column(default=30)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    updated_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class ContactPlan(db.Model):
    """One veteran's plan. `due_on` is stored (kept by plans.refresh) so overdue lists are index reads."""

    __tablename__ = "care_contact_plan"
    __table_args__ = (
        UniqueConstraint("veteran_id", name="uq_care_contact_plan_veteran"),
        Index("ix_care_contact_plan_station_due", "station_id", "due_on", "id"),
        Index("ix_care_contact_plan_assignee_due", "assignee_staff_id", "due_on", "id"),
        Index("ix_care_contact_plan_grid_worker_due", "station_id", "assignee_grid_worker", "due_on", "id"),
        Index("ix_care_contact_plan_unit_path_covered", "unit_path", "covered_until"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    veteran_id: Mapped[int] = mapped_column(ForeignKey("veteran.id", ondelete="CASCADE"))
    station_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"))  # the veteran's, copied (resynced weekly)
    unit_path: Mapped[str] = mapped_column(String(255).with_variant(String(255, collation="C"), "postgresql"))
    attention: Mapped[bool] = mapped_column(Boolean, default=False)
    assignee_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    assignee_grid_worker: Mapped[str | None] = mapped_column(String(64))  # Veteran.grid_worker, when chosen
    interval_days: Mapped[int] = mapped_column(default=90)  # the policy's interval in force at the last refresh
    base_on: Mapped[object] = mapped_column(Date)  # placement date or plan creation: due from here if never contacted
    last_contact_on: Mapped[object | None] = mapped_column(Date)
    follow_up_on: Mapped[object | None] = mapped_column(Date)
    due_on: Mapped[object] = mapped_column(Date)
    covered_until: Mapped[object | None] = mapped_column(Date)  # last contact + interval: the coverage figure
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    version_id: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version_id}


class ContactRecord(db.Model):
    """One contact with a veteran. The notes on 思想/工作/生活 are sealed; the flags stay readable for the figures."""

    __tablename__ = "care_contact"
    __table_args__ = (
        Index("ix_care_contact_veteran_date", "veteran_id", "contact_on", "id"),
        Index("ix_care_contact_station_date", "station_id", "contact_on"),
        Index("ix_care_contact_contact_on", "contact_on"),  # the daily prompt to rate (issue 20, migration 0028)
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    veteran_id: Mapped[int] = mapped_column(ForeignKey("veteran.id", ondelete="CASCADE"))
    station_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"))
    contact_on: Mapped[object] = mapped_column(Date)
    way: Mapped[str] = mapped_column(String(16))
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    notes_sealed: Mapped[str | None] = mapped_column(Text)
    flags: Mapped[list] = mapped_column(JSON, default=list)
    follow_up_on: Mapped[object | None] = mapped_column(Date)
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def way_label(self):
        return WAYS.get(self.way, self.way)

    @property
    def flag_labels(self):
        return [FLAGS.get(f, f) for f in self.flags or ()]


class ContactDigest(db.Model):
    """The weekly reminder of one station (本周联系提醒): one row per station and ISO week (idempotent)."""

    __tablename__ = "care_contact_digest"
    __table_args__ = (UniqueConstraint("station_id", "week_start", name="uq_care_contact_digest_station_week"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"))
    week_start: Mapped[object] = mapped_column(Date)  # the Monday (CST)
    overdue: Mapped[int] = mapped_column(default=0)
    due_this_week: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)
