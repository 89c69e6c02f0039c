"""Review: slot-wide writers (a plan or capacity change, a calendar closure) lock slot rows in ascending id, the
booking core's order, so they never deadlock with a reschedule holding the lower slot (PostgreSQL)."""

import threading
import time as clock
from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from tests.conftest import dispose_engines, own_database

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def lock_app():
    from backend import create_app as create_backend

    app = own_database("review_lock_order", create_backend, pool_size=4, max_overflow=0)
    yield app
    dispose_engines(app)


def _two_slots(app):
    """A service of X1 and two future slots: `low` (smaller id, later start, its row rewritten so it sits after
    `high` in the heap) and `high` (larger id, earlier start): any scan meets `high` first."""
    from backend.bookings.models import BookingService, Slot
    from backend.db import transaction
    from backend.extensions import db
    from backend.registration.windows import today_cst
    from tests.bookings.test_booking_support import cst
    from tests.factories import build_world

    with app.app_context():
        world = build_world()
        day = today_cst() + timedelta(days=3)
        with transaction():
            service = BookingService(station_id=world.x1.id, name="证明开具", plan={}, capacity=5)
            db.session.add(service)
            db.session.flush()
            low = Slot(service_id=service.id, station_id=world.x1.id, starts_at=cst(day, 11),
                       ends_at=cst(day, 11, 30), capacity=5, booked=0)  # fmt: skip
            db.session.add(low)
            db.session.flush()
            high = Slot(service_id=service.id, station_id=world.x1.id, starts_at=cst(day, 9),
                        ends_at=cst(day, 9, 30), capacity=5, booked=0)  # fmt: skip
            db.session.add(high)
        with transaction():
            db.session.execute(text("UPDATE slot SET capacity = 6 WHERE id = :id"), {"id": low.id})
        return world.x1.id, service.id, day, low.id, high.id


def _while_low_is_held(app, low, high, write):
    """Hold `low` like a reschedule that has locked its first slot, start `write` in a thread, then take `high`
    NOWAIT: a writer in ascending order waits on `low` holding nothing, so `high` is free."""
    errors = []

    def run():
        with app.app_context():
            try:
                write()
            except Exception as error:  # noqa: BLE001
                errors.append(error)

    with app.app_context():
        from backend.extensions import db

        with db.engine.connect() as conn:
            tx = conn.begin()
            conn.execute(text("SELECT id FROM slot WHERE id = :id FOR UPDATE"), {"id": low})
            thread = threading.Thread(target=run)
            thread.start()
            clock.sleep(1.0)
            try:
                conn.execute(text("SELECT id FROM slot WHERE id = :id FOR UPDATE NOWAIT"), {"id": high})
                took_high = True
            except OperationalError:
                took_high = False
            tx.rollback()
            thread.join(30)
    assert not errors, errors
    assert took_high, "the slot-wide writer locked the higher slot first: a deadlock with a reschedule"


def test_a_plan_change_locks_slots_in_id_order(lock_app):
    from backend.bookings import slots
    from backend.bookings.models import BookingService
    from backend.extensions import db

    _, service_id, day, low, high = _two_slots(lock_app)
    _while_low_is_held(lock_app, low, high, lambda: slots.reconcile(db.session.get(BookingService, service_id)))


def test_a_station_closure_locks_slots_in_id_order(lock_app):
    from backend.bookings import slots
    from backend.bookings.models import CalendarDay
    from backend.db import transaction
    from backend.extensions import db

    station_id, service_id, day, low, high = _two_slots(lock_app)
    with lock_app.app_context(), transaction():  # the station closes that day (a meeting); then the slots follow
        db.session.add(CalendarDay(unit_id=station_id, day=day, open=False, note="开会"))
    _while_low_is_held(lock_app, low, high, lambda: slots.apply_day(day, station_id))
