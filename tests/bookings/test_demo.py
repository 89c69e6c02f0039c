"""Demo bookings (backend/bookings/demo.py): services, slots and bookings in every state, seeded and repeatable, and
the whole demo loading with them (so `make run` shows the counter and the figures with data)."""

from collections import Counter

import pytest
from sqlalchemy import func, select

from backend.bookings import demo, figures
from backend.bookings.models import Booking, BookingService, Slot
from backend.db import transaction
from backend.extensions import db
from tests.factories import create_veteran


def _load(world):
    with transaction():
        demo.load({u.name: u for u in (world.x1, world.y1, world.x)})


def _statuses():
    return Counter(
        (status, by) for status, by in db.session.execute(select(Booking.status, Booking.cancelled_by)).all()
    )


def test_the_six_services_with_the_weekday_plan_and_bookings_in_every_state(world):
    for _ in range(12):
        create_veteran(station=world.x1)
    _load(world)
    services = db.session.scalars(select(BookingService).where(BookingService.station_id == world.x1.id)).all()
    assert [s.name for s in services] == ["档案查阅", "证明开具", "政策咨询", "就业指导", "帮扶申请", "心理疏导"]
    assert services[0].plan["1"] == [["09:00", "12:00"], ["14:00", "17:30"]] and services[0].plan["6"] == []
    assert db.session.scalar(select(func.count()).select_from(Slot).where(Slot.station_id == world.y1.id)) > 0
    seen = _statuses()
    for state in [("completed", None), ("no_show", None), ("booked", None), ("checked_in", None)]:
        assert seen[state] > 0, state
    assert seen[("cancelled", "veteran")] > 0 and seen[("cancelled", "station")] > 0
    # the counter of every slot equals the places its bookings hold; never above the capacity
    held = dict(
        db.session.execute(
            select(Booking.slot_id, func.count()).where(Booking.status != "cancelled").group_by(Booking.slot_id)
        ).all()
    )
    for slot in db.session.scalars(select(Slot).where(Slot.booked > 0)):
        assert slot.booked == held[slot.id] <= slot.capacity
    report = figures.weekly_report(actor=world.staff_x, unit_id=world.x1.id, weeks=4)
    assert report.total.booked > 0 and report.total.capacity > 0


def test_the_demo_bookings_are_repeatable(world):
    for _ in range(8):
        create_veteran(station=world.x1)
    _load(world)
    first = sorted(db.session.execute(select(Booking.code, Booking.status, Booking.starts_at)).all())
    with transaction():
        db.session.execute(Booking.__table__.delete())
        db.session.execute(Slot.__table__.delete())
        db.session.execute(BookingService.__table__.delete())
    _load(world)
    assert sorted(db.session.execute(select(Booking.code, Booking.status, Booking.starts_at)).all()) == first


def test_the_whole_demo_loads_with_bookings(app, tmp_path, monkeypatch):
    """The full demo (300 veterans with sealed fields, the figures rollup): ~3 s on SQLite."""
    import backend.demo as backend_demo

    monkeypatch.setattr(backend_demo, "logins_file", lambda: tmp_path / "demo-logins.txt")
    if db.session.scalar(select(func.count()).select_from(backend_demo.OrgUnit)):
        pytest.skip("the test database already holds units")
    assert backend_demo.load_demo()
    stations = db.session.scalar(
        select(func.count(func.distinct(BookingService.station_id))).select_from(BookingService)
    )
    assert stations == 4
    assert _statuses()[("completed", None)] > 0
