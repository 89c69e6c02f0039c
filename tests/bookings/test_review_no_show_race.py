"""Review: three clerks marking one veteran's three no-shows at once block the veteran (PostgreSQL): each count
sees the others' no-shows, never three counts of one."""

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest

from tests.conftest import dispose_engines, own_database

pytestmark = pytest.mark.postgres
RUNS = 5


@pytest.fixture(scope="module")
def race_app():
    from backend import create_app as create_backend

    app = own_database("review_no_show", create_backend, pool_size=5, max_overflow=0)
    yield app
    dispose_engines(app)


def _ended_bookings(app, count=3):
    """A veteran of X1 with `count` booked bookings (one per service) of slots that ended an hour ago."""
    from backend.bookings import service as booking_service
    from backend.bookings.models import BookingService, Slot
    from backend.db import transaction, utcnow
    from backend.extensions import db
    from tests.factories import build_world, create_veteran

    with app.app_context():
        world = build_world()
        veteran = create_veteran(station=world.x1)
        ids = []
        for n in range(count):
            starts = utcnow().replace(microsecond=0) - timedelta(hours=2, minutes=n)
            with transaction():
                service = BookingService(station_id=world.x1.id, name=f"服务{n}", plan={}, capacity=5)
                db.session.add(service)
                db.session.flush()
                slot = Slot(service_id=service.id, station_id=world.x1.id, starts_at=starts,
                            ends_at=starts + timedelta(minutes=30), capacity=5)  # fmt: skip
                db.session.add(slot)
            booking = booking_service.book(veteran_id=veteran.id, slot_id=slot.id, now=starts - timedelta(hours=1))
            ids.append(booking.id)
        return world.target.id, veteran.id, ids


def test_concurrent_no_shows_reach_the_limit_and_block(race_app):
    from backend.bookings import blocks, counter
    from backend.extensions import db
    from backend.staff.models import Staff

    for _ in range(RUNS):
        staff_id, veteran_id, ids = _ended_bookings(race_app)
        barrier = threading.Barrier(len(ids))

        def mark(booking_id, barrier=barrier, staff_id=staff_id):
            with race_app.app_context():
                barrier.wait()
                return counter.mark_no_show(actor=db.session.get(Staff, staff_id), booking_id=booking_id).status

        with ThreadPoolExecutor(len(ids)) as pool:
            assert list(pool.map(mark, ids)) == ["no_show"] * len(ids)
        with race_app.app_context():
            assert blocks.is_blocked(veteran_id) is not None
