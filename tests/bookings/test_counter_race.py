"""The counter's conditional UPDATEs under real concurrency (PostgreSQL, committed, separate connections): two clerks
scanning one code at once check it in once; a slot cancelled while veterans book it ends with a true counter (every
booking that got in is cancelled, the others are refused cleanly)."""

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests.conftest import dispose_engines, own_database

pytestmark = pytest.mark.postgres
CLERKS = 8


@pytest.fixture(scope="module")
def race_app():
    from backend import create_app as create_backend

    app = own_database("counter_race", create_backend, pool_size=CLERKS + 2, max_overflow=0)
    yield app
    dispose_engines(app)


def _at_once(app, calls):
    """Run each call in its own thread and app context, released together; returns [result or exception]."""
    barrier = threading.Barrier(len(calls))

    def run(call):
        with app.app_context():
            barrier.wait()
            try:
                return call()
            except Exception as error:  # noqa: BLE001 - the outcome is what the test counts
                return error

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))


def _setup(app, capacity=CLERKS):
    from backend.bookings.models import BookingService, Slot
    from backend.db import transaction, utcnow
    from backend.extensions import db
    from tests.factories import build_world

    with app.app_context():
        world = build_world()
        starts = utcnow().replace(microsecond=0) + timedelta(minutes=20)
        with transaction():
            service = BookingService(station_id=world.x1.id, name="证明开具", plan={}, capacity=capacity)
            db.session.add(service)
            db.session.flush()
            slot = Slot(
                service_id=service.id,
                station_id=world.x1.id,
                starts_at=starts,
                ends_at=starts + timedelta(minutes=30),
                capacity=capacity,
            )
            db.session.add(slot)
        return world, slot


def test_two_clerks_scanning_one_code_check_it_in_once(race_app):
    from backend.bookings import counter
    from backend.bookings import service as booking_service
    from backend.extensions import db
    from backend.staff.models import Staff
    from tests.factories import create_veteran

    world, slot = _setup(race_app)
    with race_app.app_context():
        booking = booking_service.book(veteran_id=create_veteran(station=world.x1).id, slot_id=slot.id)
        target_id, code = world.target.id, booking.code

    def scan():
        return counter.check_in(actor=db.session.get(Staff, target_id), station_id=None, code=code).status

    results = _at_once(race_app, [scan] * CLERKS)
    assert results.count("checked_in") == 1
    assert all(isinstance(r, counter.BookingStateInvalid) for r in results if r != "checked_in"), results


def test_cancelling_a_slot_while_veterans_book_it_keeps_the_counter_true(race_app):
    from backend.bookings import counter
    from backend.bookings import service as booking_service
    from backend.bookings.models import Booking, Slot
    from backend.extensions import db
    from backend.staff.models import Staff
    from tests.factories import create_veteran

    world, slot = _setup(race_app)
    with race_app.app_context():
        vets = [create_veteran(station=world.x1).id for _ in range(CLERKS - 1)]
        target_id = world.target.id

    calls = [lambda v=v: booking_service.book(veteran_id=v, slot_id=slot.id).status for v in vets]
    calls.append(lambda: counter.cancel_slot(actor=db.session.get(Staff, target_id), slot_id=slot.id, reason="停电"))
    results = _at_once(race_app, calls)
    assert not [
        r
        for r in results
        if isinstance(r, Exception)
        and not isinstance(r, (booking_service.SlotUnavailable, booking_service.BookingSlotFull))
    ]
    with race_app.app_context():
        final = db.session.get(Slot, slot.id)
        active = db.session.scalar(
            select(func.count()).where(Booking.slot_id == slot.id, Booking.status != "cancelled")
        )
        assert (final.status, final.booked, active) == ("cancelled", 0, 0)
