"""Visit campaigns (走访慰问), one visit per veteran of a campaign, and the photos of a visit."""

from sqlalchemy import JSON, CheckConstraint, Date, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from backend.db import BigId, UTCDateTime, utcnow
from backend.extensions import db

STATUS_LABELS = {"planned": "待走访", "done": "已走访", "skipped": "未走访"}
SOURCE_LABELS = {"central": "中央资金", "local": "地方资金"}
NOTES_CONTEXT = "visit.notes"


class VisitCampaign(db.Model):
    """A planned round of visits (春节走访, 八一慰问) by a unit, over a filtered set of veterans in its subtree."""

    __tablename__ = "visit_campaign"
    __table_args__ = (
        Index("ix_visit_campaign_unit_id_id", "unit_id", "id"),
        CheckConstraint("ends_on >= starts_on", name="dates"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"))
    name: Mapped[str] = mapped_column(String(50))
    purpose: Mapped[str | None] = mapped_column(String(500))
    starts_on: Mapped[object] = mapped_column(Date)
    ends_on: Mapped[object] = mapped_column(Date)
    audience: Mapped[dict] = mapped_column(JSON, default=dict)  # the cleaned filter (no personal data)
    total: Mapped[int] = mapped_column(default=0)  # visits materialized at creation
    created_by_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)


class Visit(db.Model):
    """One veteran's visit in a campaign: planned -> done | skipped, each once (conditional UPDATE).

    amount_fen, funding_source and budget_year are read by the funding figures (Art. 22)."""

    __tablename__ = "visit"
    __table_args__ = (
        UniqueConstraint("campaign_id", "veteran_id", name="uq_visit_campaign_veteran"),
        Index("ix_visit_campaign_station_id", "campaign_id", "station_id", "id"),
        Index("ix_visit_staff_id_status", "staff_id", "status"),
        Index("ix_visit_veteran_id", "veteran_id"),
        Index("ix_visit_visited_on", "visited_on"),  # the daily prompt to rate (issue 20, migration 0028)
        CheckConstraint("status IN ('planned', 'done', 'skipped')", name="status"),
        CheckConstraint("amount_fen >= 0 AND amount_fen <= 100000000", name="amount_range"),
        CheckConstraint("funding_source IS NULL OR funding_source IN ('central', 'local')", name="funding_source"),
        CheckConstraint(
            "(amount_fen = 0 AND gift IS NULL) OR (funding_source IS NOT NULL AND budget_year IS NOT NULL)",
            name="spending_has_source",
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("visit_campaign.id", ondelete="CASCADE"))
    veteran_id: Mapped[int] = mapped_column(ForeignKey("veteran.id", ondelete="CASCADE"))
    station_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))  # assigned visitor
    status: Mapped[str] = mapped_column(String(8), default="planned")
    visited_on: Mapped[object | None] = mapped_column(Date)
    amount_fen: Mapped[int] = mapped_column(default=0)  # money given, in fen
    gift: Mapped[str | None] = mapped_column(Text)
    funding_source: Mapped[str | None] = mapped_column(String(8))  # central | local
    budget_year: Mapped[int | None]
    notes_sealed: Mapped[str | None] = mapped_column(Text)  # 思想、工作、生活 notes, backend/pii
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    recorded_at: Mapped[object | None] = mapped_column(UTCDateTime)
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)


class VisitPhoto(db.Model):
    """A photo (or PDF) of a visit, checked like registration attachments (backend/uploads.py)."""

    __tablename__ = "visit_photo"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visit.id", ondelete="CASCADE"), index=True)
    stored_name: Mapped[str] = mapped_column(String(64))
    content_type: Mapped[str] = mapped_column(String(32))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    display_name: Mapped[str] = mapped_column(String(100))
    created_by_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)
