"""`booking_service.slots_through` (issue 21): a phone's slot list generates nothing once the window is generated; the
hourly job adds only the day the window moved on to; a nationwide opening and a plan change still show at once."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from backend.bookings import calendar, catalog, slots
from backend.bookings.models import BookingService, Slot
from backend.extensions import db
from backend.registration.windows import today_cst
from tests.bookings.test_slots import values

EVERY_DAY = {str(d): ["09:00-11:00"] for d in range(1, 8)}


def make_service(world, **overrides):
    return catalog.create_service(actor=world.staff_x, station_id=world.x1.id, values=values(**overrides))


def stored(service):
    return db.session.execute(
        select(BookingService.slots_through, BookingService.version_id, BookingService.updated_at).where(
            BookingService.id == service.id
        )
    ).one()


@pytest.fixture
def calls(monkeypatch):
    seen = []
    real = slots.ensure_slots

    def spy(service, first, last, days=None):
        seen.append((first, last))
        return real(service, first, last, days)

    monkeypatch.setattr(slots, "ensure_slots", spy)
    return seen


def test_a_read_of_a_generated_window_generates_nothing_and_is_not_a_staff_edit(world, calls):
    service = make_service(world, plan=EVERY_DAY)
    first, last = slots.window(service)
    through, version, updated = stored(service)
    assert through == last and calls == [(first, last)]  # created: the whole window, once
    found = slots.free_slots(service, first, last)
    assert found and calls == [(first, last)]  # the read: no generation
    assert stored(service) == (through, version, updated)  # version_id and updated_at untouched


def test_the_hourly_job_adds_only_the_new_day(world, calls):
    service = make_service(world, plan=EVERY_DAY)
    _, last = slots.window(service)
    calls.clear()
    assert slots.generate_all() == 0 and calls == []  # nothing moved: nothing read
    tomorrow = datetime.now(UTC) + timedelta(days=1)
    created = slots.generate_all(now=tomorrow)
    new_last = last + timedelta(days=1)
    assert calls == [(new_last, new_last)]
    assert stored(service).slots_through == new_last
    low, high = slots._bounds(new_last, new_last)
    rows = db.session.scalars(
        select(Slot).where(Slot.service_id == service.id, Slot.starts_at >= low, Slot.starts_at < high)
    ).all()
    assert len(rows) == created == (2 if calendar.is_open(new_last, world.x1.id) else 0)


def _closed_day_in_window(world, service):
    day = today_cst() + timedelta(days=2)
    while calendar.is_open(day, world.x1.id):
        day += timedelta(days=1)
    assert day <= slots.window(service)[1], "a 14-day window always holds a closed day"
    return day


def test_a_nationwide_opening_shows_on_the_next_read(world):
    service = make_service(world, plan=EVERY_DAY)
    day = _closed_day_in_window(world, service)
    assert slots.free_slots(service, day, day) == []
    calendar.set_day(actor=world.sys_admin, day=day, is_open=True, note="调休上班")
    db.session.expire_all()
    assert stored(service).slots_through == day - timedelta(days=1)  # moved back: the day is generated again
    service = db.session.get(BookingService, service.id)
    found = slots.free_slots(service, day, day)
    assert [s.starts_at.astimezone(slots.CST).strftime("%H:%M") for s in found] == ["09:00", "09:45"]
    assert stored(service).slots_through == slots.window(service)[1]


def test_a_plan_change_regenerates_the_whole_window(world, calls):
    service = make_service(world, plan={"1": ["09:00-10:00"]})
    day = _closed_day_in_window(world, service) + timedelta(days=1)
    while not calendar.is_open(day, world.x1.id):
        day += timedelta(days=1)
    catalog.update_service(
        actor=world.staff_x, service_id=service.id, version=service.version_id, values=values(plan=EVERY_DAY)
    )
    assert calls[-1] == slots.window(service)  # forced: every day of the window, not only past the mark
    assert len(slots.free_slots(service, day, day)) == 2
