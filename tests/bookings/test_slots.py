"""Slots from the plan and China's calendar (backend/bookings/slots.py): CST-correct and idempotent generation, free
slots, and a plan or calendar change that never drops a booking."""

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select, update

from backend.bookings import calendar, catalog, slots
from backend.bookings.models import Slot
from backend.db import transaction
from backend.extensions import db
from backend.registration.windows import today_cst

MONDAY = date(2026, 11, 30)
LUNCH = {"1": ["09:00-12:00", "14:00-17:30"]}


def values(**overrides):
    plan = overrides.pop("plan", LUNCH)
    base = dict(name="档案查阅", slot_minutes="45", capacity="3", book_ahead_days="14", cutoff_minutes="120")
    return {**base, **overrides, "plan": plan}


def make_service(world, **overrides):
    return catalog.create_service(actor=world.staff_x, station_id=world.x1.id, values=values(**overrides))


def slot_rows(service, first=MONDAY, last=MONDAY):
    low, high = slots._bounds(first, last)
    return db.session.scalars(
        select(Slot).where(Slot.service_id == service.id, Slot.starts_at >= low, Slot.starts_at < high)
        .order_by(Slot.starts_at)
    ).all()  # fmt: skip


def test_slots_follow_the_plan_in_cst_with_a_lunch_break_and_the_last_slot_fitting(world):
    service = make_service(world)
    assert slots.ensure_slots(service, MONDAY, MONDAY + timedelta(days=6)) >= 0
    rows = slot_rows(service)
    starts = [r.starts_at for r in rows]
    # 45 minutes: 09:00 09:45 10:30 11:15 | 14:00 14:45 15:30 16:15 (16:15-17:00; 17:00 + 45 > 17:30)
    assert starts[0] == datetime(2026, 11, 30, 1, 0, tzinfo=UTC)  # 09:00 CST
    assert [s.strftime("%H:%M") for s in starts] == [
        "01:00",
        "01:45",
        "02:30",
        "03:15",
        "06:00",
        "06:45",
        "07:30",
        "08:15",
    ]
    assert rows[-1].ends_at == datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    assert all(r.capacity == 3 and r.booked == 0 and r.status == "open" and r.station_id == world.x1.id for r in rows)
    assert len(slot_rows(service, MONDAY, MONDAY + timedelta(days=6))) == 8  # Mondays only


def test_generation_is_idempotent(world):
    service = make_service(world)
    slots.ensure_slots(service, MONDAY, MONDAY + timedelta(days=13))
    count = db.session.scalar(select(func.count()).select_from(Slot).where(Slot.service_id == service.id))
    assert slots.ensure_slots(service, MONDAY, MONDAY + timedelta(days=13)) == 0
    assert db.session.scalar(select(func.count()).select_from(Slot).where(Slot.service_id == service.id)) == count
    slots.generate_all()  # the hourly job: the window, missing rows only
    assert slots.generate_all() == 0
    dupes = db.session.execute(
        select(Slot.starts_at, func.count()).where(Slot.service_id == service.id).group_by(Slot.starts_at)
        .having(func.count() > 1)
    ).all()  # fmt: skip
    assert dupes == []


def test_no_slots_on_a_statutory_holiday(world):
    service = make_service(world, plan={str(d): ["09:00-12:00"] for d in range(1, 8)})
    slots.ensure_slots(service, date(2026, 10, 1), date(2026, 10, 10))
    days = {r.starts_at.astimezone(slots.CST).date() for r in slot_rows(service, date(2026, 10, 1), date(2026, 10, 10))}
    assert days == {date(2026, 10, 8), date(2026, 10, 9), date(2026, 10, 10)}  # 1–7 closed; the 10th: 调休上班


def _next_open_day(world, service, offset=3):
    day = today_cst() + timedelta(days=offset)
    while not (calendar.is_open(day, world.x1.id) and slots.day_times(service, day)):
        day += timedelta(days=1)
    return day


def _book(slot_id, count=1):
    with transaction():
        db.session.execute(update(Slot).where(Slot.id == slot_id).values(booked=count))


def test_a_plan_change_withdraws_free_slots_and_lists_booked_ones(world):
    service = make_service(world, plan={str(d): ["09:00-12:00", "14:00-17:00"] for d in range(1, 8)})
    day = _next_open_day(world, service)
    afternoon = [r for r in slot_rows(service, day, day) if r.starts_at.astimezone(slots.CST).hour >= 14]
    assert afternoon, "the window's slots are generated on create"
    _book(afternoon[0].id, 2)
    catalog.update_service(
        actor=world.staff_x, service_id=service.id, version=service.version_id,
        values=values(plan={str(d): ["09:00-12:00"] for d in range(1, 8)}, capacity="1"),
    )  # fmt: skip
    rows = {r.id: r for r in slot_rows(service, day, day)}
    db.session.expire_all()
    kept = db.session.get(Slot, afternoon[0].id)
    assert kept.status == "open" and kept.booked == 2 and kept.capacity == 2  # capacity never below booked
    assert all(db.session.get(Slot, r.id).status == "withdrawn" for r in afternoon[1:])
    assert all(db.session.get(Slot, i).capacity == 1 for i, r in rows.items() if i != kept.id)
    attention = slots.needs_attention(service)
    assert [(a["slot_id"], a["booked"], a["day"]) for a in attention] == [(kept.id, 2, day)]
    assert kept.id not in {s.id for s in slots.free_slots(service, day, day)}  # never offered again


def test_reverting_the_plan_reopens_withdrawn_slots(world):
    service = make_service(world, plan={str(d): ["09:00-11:00"] for d in range(1, 8)})
    day = _next_open_day(world, service)
    before = len(slots.free_slots(service, day, day))
    catalog.update_service(
        actor=world.staff_x, service_id=service.id, version=1, values=values(plan={"1": ["08:00-08:45"]})
    )
    service = catalog.get_service(actor=world.staff_x, service_id=service.id)
    catalog.update_service(
        actor=world.staff_x, service_id=service.id, version=service.version_id,
        values=values(plan={str(d): ["09:00-11:00"] for d in range(1, 8)}),
    )  # fmt: skip
    assert len(slots.free_slots(service, day, day)) == before > 0


def test_a_station_closure_keeps_booked_slots_listed(world):
    service = make_service(world, plan={str(d): ["09:00-10:30"] for d in range(1, 8)})
    day = _next_open_day(world, service)
    first, second = slot_rows(service, day, day)[:2]
    _book(first.id)
    calendar.set_day(actor=world.staff_x, day=day, is_open=False, note="临时闭站", station_id=world.x1.id)
    db.session.expire_all()
    assert db.session.get(Slot, first.id).status == "open"
    assert db.session.get(Slot, second.id).status == "withdrawn"
    assert [a["slot_id"] for a in slots.needs_attention(service)] == [first.id]
    assert slots.free_slots(service, day, day) == []


def test_free_slots_are_future_open_not_full_and_inside_the_window(world):
    service = make_service(world, plan={str(d): ["09:00-12:00"] for d in range(1, 8)}, book_ahead_days="3")
    today = today_cst()
    found = slots.free_slots(service, today - timedelta(days=5), today + timedelta(days=30))
    now = datetime.now(UTC)
    assert found and all(s.starts_at > now for s in found)
    assert max(s.starts_at.astimezone(slots.CST).date() for s in found) <= today + timedelta(days=3)
    _book(found[0].id, 3)
    assert found[0].id not in {s.id for s in slots.free_slots(service, today, today + timedelta(days=3))}
    catalog.deactivate_service(actor=world.staff_x, service_id=service.id, version=service.version_id)
    assert slots.free_slots(service, today, today + timedelta(days=3)) == []
    assert [a["slot_id"] for a in slots.needs_attention(service)] == [found[0].id]


def test_a_nationwide_closure_withdraws_free_slots_and_its_removal_brings_them_back(world):
    service = make_service(world, plan={str(d): ["09:00-10:30"] for d in range(1, 8)})
    day = _next_open_day(world, service)
    first, second = slot_rows(service, day, day)[:2]
    _book(first.id)
    row = calendar.set_day(actor=world.sys_admin, day=day, is_open=False, note="临时休假")
    db.session.expire_all()
    assert (db.session.get(Slot, first.id).status, db.session.get(Slot, second.id).status) == ("open", "withdrawn")
    assert [a["slot_id"] for a in slots.needs_attention(service)] == [first.id]
    calendar.delete_day(actor=world.sys_admin, day_id=row.id)
    assert [s.id for s in slots.free_slots(service, day, day)] == [first.id, second.id]  # reopened on demand
    assert slots.needs_attention(service) == []
