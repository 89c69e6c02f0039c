"""Hardship assistance (帮扶援助): cases, their timeline and proof attachments; health details sealed (backend/pii)."""

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from backend.db import BigId, UTCDateTime, utcnow
from backend.extensions import db

CATEGORIES = ("serious_illness", "accident", "disaster", "family_emergency", "other")
STATUSES = ("submitted", "under_review", "recommended", "approved", "rejected", "paid", "closed")
FUNDING_SOURCES = ("central", "local")
CHANNELS = ("phone", "counter", "visit")


def _in(column, values):
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


# The amount columns are INTEGER (fen): 1,000 万元 bounds every amount well inside them; larger is a typo or an attack.
MAX_AMOUNT_FEN = 10**9


class AssistanceCase(db.Model):
    """One request for help. `status` moves only by conditional UPDATE (backend/assistance/transitions.py)."""

    __tablename__ = "assistance_case"
    __table_args__ = (
        Index("ix_assistance_case_veteran_id_id", "veteran_id", "id"),
        Index("ix_assistance_case_station_id_id", "station_id", "id"),
        Index("ix_assistance_case_budget_year", "budget_year", "funding_source"),
        Index("ix_assistance_case_closed_on", "closed_on"),  # the daily prompt to rate (issue 20, migration 0028)
        CheckConstraint(_in("status", STATUSES), name="status_known"),
        CheckConstraint(_in("category", CATEGORIES), name="category_known"),
        CheckConstraint(f"funding_source IS NULL OR {_in('funding_source', FUNDING_SOURCES)}", name="funding_known"),
        CheckConstraint("requested_amount_fen IS NULL OR requested_amount_fen >= 0", name="requested_not_negative"),
        CheckConstraint("approved_amount_fen IS NULL OR approved_amount_fen > 0", name="approved_positive"),
        CheckConstraint("paid_amount_fen IS NULL OR paid_amount_fen > 0", name="paid_positive"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    veteran_id: Mapped[int] = mapped_column(ForeignKey("veteran.id", ondelete="CASCADE"))
    station_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"))
    category: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(16), default="submitted")
    channel: Mapped[str] = mapped_column(String(10), default="phone")  # phone | counter | visit
    description_sealed: Mapped[str] = mapped_column(Text)  # health details: AES-GCM (backend/pii)
    notes_sealed: Mapped[str | None] = mapped_column(Text)  # the station's recommendation notes
    requested_amount_fen: Mapped[int | None] = mapped_column()
    recommended_amount_fen: Mapped[int | None] = mapped_column()
    approved_amount_fen: Mapped[int | None] = mapped_column()
    first_approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))  # four eyes above the threshold
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    approved_at: Mapped[object | None] = mapped_column(UTCDateTime)
    reject_reason: Mapped[str | None] = mapped_column(String(500))  # told to the veteran
    paid_amount_fen: Mapped[int | None] = mapped_column()
    paid_on: Mapped[object | None] = mapped_column(Date)  # CST
    payment_reference: Mapped[str | None] = mapped_column(String(64))
    funding_source: Mapped[str | None] = mapped_column(String(10))  # central | local (Art. 22)
    budget_year: Mapped[int | None] = mapped_column()
    follow_up_sealed: Mapped[str | None] = mapped_column(Text)  # the follow-up visit's note on closing
    closed_on: Mapped[object | None] = mapped_column(Date)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))  # staff who opened it, None: the phone
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class AssistanceEvent(db.Model):
    """One step of a case's timeline (a status change, or the first of two approvals)."""

    __tablename__ = "assistance_event"
    __table_args__ = (Index("ix_assistance_event_case_id_id", "case_id", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("assistance_case.id", ondelete="CASCADE"))
    occurred_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)
    action: Mapped[str] = mapped_column(String(20))  # submitted | under_review | … | first_approval
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))  # None: the veteran on the phone
    amount_fen: Mapped[int | None] = mapped_column()


class AssistanceAttachment(db.Model):
    """Proof attached to a case (same checks as registration attachments: backend/uploads.py)."""

    __tablename__ = "assistance_attachment"
    __table_args__ = (Index("ix_assistance_attachment_case_id", "case_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("assistance_case.id", ondelete="CASCADE"))
    stored_name: Mapped[str] = mapped_column(String(64), unique=True)
    content_type: Mapped[str] = mapped_column(String(40))
    size: Mapped[int] = mapped_column()
    sha256: Mapped[str] = mapped_column(String(64))
    display_name: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)
