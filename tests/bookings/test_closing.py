"""Bookings nobody closed at the counter are closed by the hourly job, so the veteran can book that service again;
a system-closed no-show never counts toward a booking block."""

from datetime import UTC, datetime, timedelta

from backend.bookings import blocks, closing
from backend.db import utcnow
from backend.extensions import db
from tests.authz.booking_figures_cells import make_booking, make_service, make_slot
from tests.factories import create_veteran


def _reload(booking):
    db.session.refresh(booking)
    return booking


def test_ended_bookings_are_closed_after_the_grace_and_free_the_service(world, app):
    service = make_service(world.x1)
    now = datetime(2026, 11, 20, 4, tzinfo=UTC)
    old = make_slot(service, now - timedelta(hours=30))
    fresh = make_slot(service, now - timedelta(hours=2))
    came, absent = create_veteran(station=world.x1), create_veteran(station=world.x1)
    done_earlier = create_veteran(station=world.x1)
    b_came = make_booking(old, came, status="checked_in")
    b_absent = make_booking(old, absent)
    b_recent = make_booking(fresh, done_earlier)
    assert closing.close_ended(now) == {"completed": 1, "no_show": 1}
    assert _reload(b_came).status == "completed" and b_came.completed_at == now
    assert _reload(b_absent).status == "no_show" and b_absent.handled_by_id is None
    assert b_absent.note == closing.AUTO_NOTE
    assert _reload(b_recent).status == "booked"  # within BOOKING_AUTO_CLOSE_HOURS: the counter may still close it
    assert closing.close_ended(now) == {"completed": 0, "no_show": 0}  # idempotent
    # the veteran holds no active booking of the service any more: the next one is allowed by the unique index
    make_booking(make_slot(service, now + timedelta(days=2)), absent)


def test_system_closed_no_shows_never_block(world, app):
    service = make_service(world.x1)
    veteran = create_veteran(station=world.x1)
    now = utcnow()
    for days in (6, 5, 4, 3):  # one active booking per service at a time: each is closed before the next
        make_booking(make_slot(service, now - timedelta(days=days)), veteran)
        closing.close_ended(now)
    assert blocks.count_recent_no_shows(veteran.id, now) == 0
    assert blocks.is_blocked(veteran.id, now) is None
