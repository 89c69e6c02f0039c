"""Concurrent reminder runs (two beats, a late-acked task running again): every booking is reminded exactly once.

Needs real commits on separate connections, so it runs against a database of its own on PostgreSQL (SQLite has no
row locks). Slow (~2-4 s): 5 rounds of 4 threads over 24 bookings each.
"""

import threading
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from tests.conftest import dispose_engines, own_database

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def race_app():
    from backend import create_app

    app = own_database("reminders", create_app, pool_size=6)
    yield app
    dispose_engines(app)


def test_concurrent_runs_remind_each_booking_once(race_app):
    from backend.bookings import reminders
    from backend.extensions import db
    from backend.notifications.models import Delivery, Notification
    from tests.authz.booking_figures_cells import cst, make_booking, make_service, make_slot
    from tests.factories import build_world, create_veteran

    with race_app.app_context():
        world = build_world()
        veterans = [create_veteran(station=world.x1) for _ in range(24)]
        db.session.remove()

    base = date(2031, 3, 3) + timedelta(days=7 * (world.x1.id % 1000))  # a fresh range per run of the suite
    for round_ in range(5):
        today = base + timedelta(days=round_)
        with race_app.app_context():
            bookings, service = [], make_service(world.x1, name=f"服务{round_}")  # one active booking per service
            for i in range(6):
                slot = make_slot(service, cst(today + timedelta(days=1), f"{9 + i}:00"))
                bookings += [make_booking(slot, v).id for v in veterans[i * 4 : i * 4 + 4]]
            before = db.session.scalar(select(func.max(Notification.id))) or 0
            db.session.remove()
        barrier, results, errors = threading.Barrier(4), [], []

        def run(today=today, barrier=barrier, results=results, errors=errors):
            with race_app.app_context():
                barrier.wait()
                try:
                    results.append(reminders.send_due(now=cst(today, "10:00")))
                except Exception as error:  # noqa: BLE001 - reported below, the test fails on any
                    errors.append(repr(error))
                finally:
                    db.session.remove()

        threads = [threading.Thread(target=run) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        assert sum(r["reminded"] for r in results) >= len(bookings)
        with race_app.app_context():
            from backend.bookings.models import Booking

            per_veteran = db.session.execute(
                select(Delivery.veteran_id, func.count())
                .join(Notification, Notification.id == Delivery.notification_id)
                .where(
                    Notification.kind == "booking.reminder",
                    Notification.sender_unit_id == world.x1.id,
                    Notification.id > before,
                )
                .group_by(Delivery.veteran_id)
            ).all()
            assert sorted(c for _, c in per_veteran) == [1] * 24, per_veteran
            unreminded = db.session.scalar(
                select(func.count()).where(Booking.id.in_(bookings), Booking.reminded_at.is_(None))
            )
            assert unreminded == 0
            db.session.remove()
