"""Closing bookings nobody closed at the counter, so a veteran is never locked out of a service.

A booking still "booked" or "checked_in" after its slot ended counts as active: the one-active-booking-per-service
rule would refuse the veteran's next booking of that service for good, and the cut-off has passed, so they could not
cancel it either. The hourly job closes what ended more than BOOKING_AUTO_CLOSE_HOURS ago: checked in → completed
(they came), booked → no_show marked by the system (handled_by_id NULL, with a note). Figures count such a no-show
as a no-show; a booking block counts only no-shows a clerk marked (backend/bookings/blocks.py), because a block is a
sanction that should rest on the station's own judgement.
"""

from datetime import timedelta

from flask import current_app
from sqlalchemy import select, update

from backend.bookings.models import Booking, Slot
from backend.db import transaction, utcnow
from backend.extensions import db

AUTO_NOTE = "系统自动关闭：时段结束后未在窗口办理"
LOOKBACK_DAYS = 30  # older leftovers were closed by earlier runs; keeps the scan on recent rows


def close_ended(now=None):
    """Returns {"completed": n, "no_show": n}. Set-based and idempotent (conditional on the status)."""
    now = now or utcnow()
    ended_before = now - timedelta(hours=current_app.config["BOOKING_AUTO_CLOSE_HOURS"])
    ended = select(Slot.id).where(Slot.ends_at <= ended_before, Slot.ends_at > now - timedelta(days=LOOKBACK_DAYS))
    counts = {}
    with transaction():
        for old, new in (("checked_in", "completed"), ("booked", "no_show")):
            stamp = {"completed_at": now} if new == "completed" else {}
            counts[new] = db.session.execute(
                update(Booking)
                .where(
                    Booking.status == old,
                    Booking.starts_at <= ended_before,
                    Booking.starts_at > now - timedelta(days=LOOKBACK_DAYS + 1),
                    Booking.slot_id.in_(ended),
                )
                .values(status=new, note=AUTO_NOTE, updated_at=now, version_id=Booking.version_id + 1, **stamp)
                .execution_options(synchronize_session=False)
            ).rowcount
    return counts
