"""Consents, trips and their timeline. Destination, purpose detail and every date are encrypted at rest; the planned
return date is also kept in clear (Trip.return_due_on) for the overdue job."""

from datetime import date

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backend import pii
from backend.db import BigId, UTCDateTime, utcnow
from backend.extensions import db

STATUS_LABELS = {"planned": "计划出行", "departed": "已出境", "returned": "已返回", "cancelled": "已取消"}
CONTEXT = "travel.trip"
OPEN_NOT_OVERDUE = "status IN ('planned', 'departed') AND NOT overdue"


class TravelConsent(db.Model):
    """The veteran's separate consent (PIPL Art. 29) to processing whereabouts, per notice version."""

    __tablename__ = "travel_consent"
    __table_args__ = (Index("ix_travel_consent_veteran", "veteran_id", "notice_version"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    veteran_id: Mapped[int] = mapped_column(ForeignKey("veteran.id", ondelete="CASCADE"))
    notice_version: Mapped[str] = mapped_column(String(16))
    channel: Mapped[str] = mapped_column(String(16))  # online | counter
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    consented_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)


class Trip(db.Model):
    __tablename__ = "trip"
    __table_args__ = (
        Index("ix_trip_unit_id_id", "unit_id", "id"),
        Index("ix_trip_veteran_id", "veteran_id"),
        # The daily overdue job's range scan: open trips not yet overdue, by planned return date.
        Index(
            "ix_trip_return_due_open",
            "return_due_on",
            postgresql_where=text(OPEN_NOT_OVERDUE),
            sqlite_where=text(OPEN_NOT_OVERDUE),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    veteran_id: Mapped[int] = mapped_column(ForeignKey("veteran.id", ondelete="CASCADE"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"))
    consent_id: Mapped[int] = mapped_column(ForeignKey("travel_consent.id"))
    status: Mapped[str] = mapped_column(String(16), default="planned")
    overdue: Mapped[bool] = mapped_column(Boolean, default=False)
    overdue_reminded: Mapped[bool] = mapped_column(Boolean, default=False)
    # {"destination", "purpose", "purpose_note", "planned_departure", "planned_return", "departed_on", "returned_on"}
    sealed: Mapped[str] = mapped_column(String(2000))
    # The planned return date in clear, a copy of details["planned_return"] kept by seal(). The daily overdue job
    # selects on it in SQL instead of decrypting every open trip. A date alone is acceptable unsealed: the job needs
    # it, and it reveals no whereabouts (destination, purpose and the actual dates stay sealed).
    return_due_on: Mapped[object | None] = mapped_column(Date)
    document_type: Mapped[str] = mapped_column(String(16))
    channel: Mapped[str] = mapped_column(String(16))  # online | counter | phone
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    staff_note_sealed: Mapped[str | None] = mapped_column(String(2000))
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    veteran = relationship("Veteran", lazy="joined")

    @property
    def details(self):
        data = pii.open_sealed(self, self.sealed, context=CONTEXT)
        for key in ("planned_departure", "planned_return", "departed_on", "returned_on"):
            if data.get(key):
                data[key] = date.fromisoformat(data[key])
        return data

    def seal(self, data):
        plain = {k: (v.isoformat() if isinstance(v, date) else v) for k, v in data.items()}
        self.sealed = pii.encrypt_json(plain, context=CONTEXT)
        due = plain.get("planned_return")
        self.return_due_on = date.fromisoformat(due) if due else None

    @property
    def staff_note(self):
        return pii.decrypt(self.staff_note_sealed, context=f"{CONTEXT}.note") if self.staff_note_sealed else None

    @property
    def status_label(self):
        return STATUS_LABELS.get(self.status, self.status)


class TripEvent(db.Model):
    __tablename__ = "trip_event"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    trip_id: Mapped[int] = mapped_column(ForeignKey("trip.id", ondelete="CASCADE"), index=True)
    occurred_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)
    actor_type: Mapped[str] = mapped_column(String(16))
    actor_label: Mapped[str | None] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(32))
    details: Mapped[dict] = mapped_column(JSON, default=dict)  # never whereabouts
