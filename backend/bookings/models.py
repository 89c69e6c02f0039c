"""Services, calendar exceptions, slots, bookings and booking blocks."""

from sqlalchemy import JSON, Boolean, CheckConstraint, Date, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from backend.db import BigId, UTCDateTime, utcnow
from backend.extensions import db

ACTIVE = ("booked", "checked_in")  # a booking that holds its place in the slot


class BookingService(db.Model):
    """A service a station offers, with its working plan."""

    __tablename__ = "booking_service"
    __table_args__ = (
        Index("ix_booking_service_station_id", "station_id", "id"),
        CheckConstraint("slot_minutes BETWEEN 5 AND 480", name="slot_minutes_range"),
        CheckConstraint("capacity BETWEEN 1 AND 500", name="capacity_range"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"))
    name: Mapped[str] = mapped_column(String(50))
    description: Mapped[str | None] = mapped_column(String(500))
    materials: Mapped[str | None] = mapped_column(Text)  # 材料清单, one item per line
    location: Mapped[str | None] = mapped_column(String(200))  # where at the station (窗口, 房间)
    # weekly plan: {"1": [["09:00", "12:00"], ["14:00", "17:30"]], …, "7": []} (ISO weekday -> opening periods, CST)
    plan: Mapped[dict] = mapped_column(JSON, default=dict)
    slot_minutes: Mapped[int] = mapped_column(default=30)
    capacity: Mapped[int] = mapped_column(default=5)
    book_ahead_days: Mapped[int] = mapped_column(default=14)
    cutoff_minutes: Mapped[int] = mapped_column(default=120)  # cancel / reschedule until this long before the start
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # the last CST day up to which the window's slots are generated for the current plan and calendar (slots.py
    # generate_window); None after a nationwide opening or before the first generation. Not a staff-edited field:
    # written by a Core UPDATE that leaves version_id and updated_at alone.
    slots_through: Mapped[object | None] = mapped_column(Date)
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    version_id: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version_id}


class CalendarDay(db.Model):
    """An exception to China's calendar: nationwide (unit_id None, the system administrator's yearly update path
    when the library lags behind the State Council's notice) or one station's own (closed for a meeting, an extra
    Saturday)."""

    __tablename__ = "calendar_day"
    __table_args__ = (
        UniqueConstraint("unit_id", "day", name="uq_calendar_day_unit_day"),
        # NULLs are distinct in a unique constraint: one nationwide entry per day needs its own partial index
        Index(
            "uq_calendar_day_nationwide_day",
            "day",
            unique=True,
            postgresql_where=text("unit_id IS NULL"),
            sqlite_where=text("unit_id IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_unit.id"))
    day: Mapped[object] = mapped_column(Date)
    open: Mapped[bool] = mapped_column(Boolean)  # True: a working day (调休上班, extra day); False: closed
    note: Mapped[str] = mapped_column(String(100))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)


class Slot(db.Model):
    """One bookable time of one service. `booked` moves only by a conditional UPDATE; the CHECK is the backstop."""

    __tablename__ = "slot"
    __table_args__ = (
        UniqueConstraint("service_id", "starts_at", name="uq_slot_service_starts_at"),
        CheckConstraint("booked >= 0 AND booked <= capacity", name="booked_within_capacity"),
        Index("ix_slot_station_starts_at", "station_id", "starts_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("booking_service.id", ondelete="CASCADE"))
    station_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"))
    starts_at: Mapped[object] = mapped_column(UTCDateTime)
    ends_at: Mapped[object] = mapped_column(UTCDateTime)
    capacity: Mapped[int] = mapped_column(default=5)
    booked: Mapped[int] = mapped_column(default=0)
    status: Mapped[str] = mapped_column(String(12), default="open")  # open | cancelled | withdrawn (plan changed)
    cancel_reason: Mapped[str | None] = mapped_column(String(200))


class Booking(db.Model):
    __tablename__ = "booking"
    __table_args__ = (
        # at most one active booking per service per veteran (409 booking.duplicate)
        Index(
            "uq_booking_active_veteran_service",
            "veteran_id",
            "service_id",
            unique=True,
            postgresql_where=text("status IN ('booked', 'checked_in')"),
            sqlite_where=text("status IN ('booked', 'checked_in')"),
        ),
        Index("ix_booking_veteran_id_id", "veteran_id", "id"),
        Index("ix_booking_slot_id", "slot_id"),
        Index("ix_booking_station_starts_at", "station_id", "starts_at"),
        Index("ix_booking_completed_at", "completed_at"),  # the daily prompt to rate (issue 20, migration 0028)
        # the reminder and closing jobs: only bookings still open, by time
        Index(
            "ix_booking_open_starts_at",
            "starts_at",
            postgresql_where=text("status IN ('booked', 'checked_in')"),
            sqlite_where=text("status IN ('booked', 'checked_in')"),
        ),
        UniqueConstraint("code", name="uq_booking_code"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    veteran_id: Mapped[int] = mapped_column(ForeignKey("veteran.id", ondelete="CASCADE"))
    service_id: Mapped[int] = mapped_column(ForeignKey("booking_service.id"))
    slot_id: Mapped[int] = mapped_column(ForeignKey("slot.id"))
    station_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"))
    starts_at: Mapped[object] = mapped_column(UTCDateTime)  # the slot's start, copied for the day's lists
    code: Mapped[str] = mapped_column(String(12))  # short check-in code, also in the QR code
    # booked -> checked_in -> completed; booked -> no_show; booked -> cancelled (by veteran or station)
    status: Mapped[str] = mapped_column(String(12), default="booked")
    channel: Mapped[str] = mapped_column(String(8), default="phone")  # phone | counter
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))  # counter bookings
    cancelled_by: Mapped[str | None] = mapped_column(String(8))  # veteran | station
    cancelled_by_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    cancel_reason: Mapped[str | None] = mapped_column(String(200))
    cancelled_at: Mapped[object | None] = mapped_column(UTCDateTime)
    checked_in_at: Mapped[object | None] = mapped_column(UTCDateTime)
    completed_at: Mapped[object | None] = mapped_column(UTCDateTime)
    handled_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    note: Mapped[str | None] = mapped_column(String(500))
    reminded_at: Mapped[object | None] = mapped_column(UTCDateTime)
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    version_id: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version_id}


class BookingBlock(db.Model):
    """A veteran who missed too many bookings may not book until `blocked_until`, unless staff lift it."""

    __tablename__ = "booking_block"

    veteran_id: Mapped[int] = mapped_column(ForeignKey("veteran.id", ondelete="CASCADE"), primary_key=True)
    blocked_until: Mapped[object] = mapped_column(UTCDateTime)
    no_shows: Mapped[int] = mapped_column(default=0)
    lifted_at: Mapped[object | None] = mapped_column(UTCDateTime)
    lifted_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)
