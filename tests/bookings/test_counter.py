"""The counter (issue 14): check-in by code (scope, day, twice), completion, no-shows after the slot only.

The helpers here (a service, a slot, a booking) are shared by the other counter and block tests."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from backend.audit.models import AuditLog
from backend.bookings import counter
from backend.bookings import service as booking_service
from backend.bookings.models import BookingService, Slot
from backend.db import transaction
from backend.extensions import db
from tests.factories import create_staff, create_unit, create_veteran, unique

# 2026-12-01 09:00 CST; the phone books it the day before
SLOT_AT = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)
BOOKED_AT = SLOT_AT - timedelta(hours=20)


def make_service(station, *, capacity=5):
    with transaction():
        service = BookingService(
            station_id=station.id,
            name=unique("档案查阅"),
            plan={},
            slot_minutes=30,
            capacity=capacity,
            book_ahead_days=14,
            cutoff_minutes=120,
            active=True,
            location="一号窗口",
        )
        db.session.add(service)
    return service


def make_slot(service, starts_at=SLOT_AT, *, minutes=30, capacity=None):
    with transaction():
        slot = Slot(
            service_id=service.id,
            station_id=service.station_id,
            starts_at=starts_at,
            ends_at=starts_at + timedelta(minutes=minutes),
            capacity=capacity or service.capacity,
            booked=0,
            status="open",
        )
        db.session.add(slot)
    return slot


def make_booking(veteran, slot, now=None):
    """A phone booking of `slot` by `veteran`, made `now` (default: the day before the slot)."""
    return booking_service.book(veteran_id=veteran.id, slot_id=slot.id, now=now or slot.starts_at - timedelta(hours=20))


@pytest.fixture
def booked(world):
    """A booking at station X1 on 2026-12-01 09:00 CST."""
    veteran = create_veteran(station=world.x1, name="张卫国")
    slot = make_slot(make_service(world.x1))
    return make_booking(veteran, slot)


def _audits(action):
    return db.session.scalars(select(AuditLog).where(AuditLog.action == action)).all()


def test_check_in_by_code_on_its_day_moves_booked_to_checked_in_and_audits(world, booked):
    at = SLOT_AT - timedelta(minutes=80)  # 07:40 CST the same day
    done = counter.check_in(actor=world.target, station_id=None, code=booked.code, now=at)
    assert (done.status, done.checked_in_at, done.handled_by_id) == ("checked_in", at, world.target.id)
    assert [a.object_id for a in _audits("bookings.checked_in")] == [str(booked.id)]


def test_check_in_takes_what_a_scanner_types(world, booked):
    typed = f"  {booked.code[:4].lower()}-{booked.code[4:]}\r\n"
    assert counter.check_in(actor=world.staff_x, station_id=world.x1.id, code=typed, now=SLOT_AT).status == "checked_in"


def test_check_in_with_a_code_of_another_station_is_not_found(world, booked):
    other = create_unit(parent=world.x, name="青山二站", level="station")
    with pytest.raises(counter.BookingNotFound):
        counter.check_in(actor=world.staff_x, station_id=other.id, code=booked.code, now=SLOT_AT)
    y_clerk = create_staff(unit=world.y1)
    with pytest.raises(counter.BookingNotFound):
        counter.check_in(actor=y_clerk, station_id=None, code=booked.code, now=SLOT_AT)
    with pytest.raises(counter.OrgUnitNotFound):  # staff of Y naming station X1: out of scope, same as missing
        counter.check_in(actor=world.staff_y, station_id=world.x1.id, code=booked.code, now=SLOT_AT)
    assert db.session.get(type(booked), booked.id).status == "booked"


def test_check_in_on_another_day_raises_wrong_day(world, booked):
    with pytest.raises(counter.WrongDay) as caught:
        counter.check_in(actor=world.target, station_id=None, code=booked.code, now=SLOT_AT - timedelta(days=1))
    assert caught.value.details == {"day": "2026-12-01"}
    with pytest.raises(counter.WrongDay):
        counter.check_in(actor=world.target, station_id=None, code=booked.code, now=SLOT_AT + timedelta(days=1))


def test_check_in_within_an_hour_before_counts_even_the_evening_before(world):
    veteran = create_veteran(station=world.x1)
    early = datetime(2026, 11, 30, 16, 30, tzinfo=UTC)  # 00:30 CST on 1 December
    booking = make_booking(veteran, make_slot(make_service(world.x1), early))
    at = early - timedelta(minutes=50)  # 23:40 CST on 30 November
    assert counter.check_in(actor=world.target, station_id=None, code=booking.code, now=at).status == "checked_in"


def test_check_in_twice_raises_invalid_state(world, booked):
    counter.check_in(actor=world.target, station_id=None, code=booked.code, now=SLOT_AT)
    with pytest.raises(counter.BookingStateInvalid):
        counter.check_in(actor=world.target, station_id=None, code=booked.code, now=SLOT_AT)
    assert len(_audits("bookings.checked_in")) == 1


def test_complete_with_a_note_after_check_in(world, booked):
    with pytest.raises(counter.BookingStateInvalid):  # not checked in yet
        counter.complete(actor=world.target, booking_id=booked.id, note="x", now=SLOT_AT)
    counter.check_in(actor=world.target, station_id=None, code=booked.code, now=SLOT_AT)
    done = counter.complete(actor=world.target, booking_id=booked.id, note=" 已出具证明 ", now=SLOT_AT)
    assert (done.status, done.note, done.completed_at) == ("completed", "已出具证明", SLOT_AT)
    with pytest.raises(counter.BookingStateInvalid):
        counter.complete(actor=world.target, booking_id=booked.id, now=SLOT_AT)


def test_complete_refuses_a_note_over_500_characters(world, booked):
    counter.check_in(actor=world.target, station_id=None, code=booked.code, now=SLOT_AT)
    with pytest.raises(counter.ValidationFailed):
        counter.complete(actor=world.target, booking_id=booked.id, note="长" * 501, now=SLOT_AT)


def test_no_show_only_after_the_slot_ends(world, booked):
    with pytest.raises(counter.SlotNotEnded):
        counter.mark_no_show(actor=world.target, booking_id=booked.id, now=SLOT_AT + timedelta(minutes=29))
    done = counter.mark_no_show(actor=world.target, booking_id=booked.id, now=SLOT_AT + timedelta(minutes=30))
    assert done.status == "no_show"
    assert len(_audits("bookings.no_show")) == 1
    with pytest.raises(counter.BookingStateInvalid):
        counter.mark_no_show(actor=world.target, booking_id=booked.id, now=SLOT_AT + timedelta(hours=1))


def test_counter_actions_out_of_scope_are_not_found_and_need_the_permission(world, booked):
    from backend.errors import PermissionDenied

    with pytest.raises(counter.BookingNotFound):
        counter.complete(actor=world.staff_y, booking_id=booked.id, now=SLOT_AT)
    with pytest.raises(counter.BookingNotFound):
        counter.mark_no_show(actor=world.staff_y, booking_id=booked.id, now=SLOT_AT + timedelta(hours=1))
    with pytest.raises(PermissionDenied):
        counter.mark_no_show(actor=world.supervisor_parent, booking_id=booked.id, now=SLOT_AT + timedelta(hours=1))


def test_station_day_groups_bookings_by_service_and_slot(world, booked):
    service = db.session.get(BookingService, booked.service_id)
    later = make_slot(service, SLOT_AT + timedelta(hours=1))
    second = make_booking(create_veteran(station=world.x1, name="李红"), later)
    make_booking(create_veteran(station=world.y1), make_slot(make_service(world.y1)))  # another station's day
    days = counter.station_day(actor=world.staff_x, station=world.x1, day=SLOT_AT.date())
    [day] = [d for d in days if d.service.id == service.id]
    assert [[b.id for b, _ in row.bookings] for row in day.slots] == [[booked.id], [second.id]]
    assert day.slots[0].bookings[0][1].name == "张卫国"
    assert (
        counter.station_day(actor=world.staff_x, station=world.x1, day=SLOT_AT.date() + timedelta(days=1))[0].slots
        == []
    )
