"""Review fixes (issue 14): a lowered capacity stays lowered after a cancellation, the fixed-date holidays of a
year chinese_calendar does not know, and a non-ASCII digit in the catalog form is a 422, not a 500."""

from datetime import date

import pytest

from backend.bookings import calendar, slots
from backend.bookings import service as booking_service
from backend.bookings.models import BookingService, Slot
from backend.db import transaction
from backend.extensions import db
from tests.bookings.test_booking_support import fresh, make_service, make_slot
from tests.factories import create_veteran
from tests.helpers import portal_as


def _lower_capacity(service, capacity):
    with transaction():
        db.session.get(BookingService, service.id).capacity = capacity
        slots.reconcile(service)


def test_a_cancellation_never_reopens_a_place_the_lowered_plan_dropped(world):
    service = make_service(world.x1, capacity=3)
    slot = make_slot(service, capacity=3)
    bookings = [booking_service.book(veteran_id=create_veteran(station=world.x1).id, slot_id=slot.id) for _ in "abc"]
    _lower_capacity(service, 1)
    assert (fresh(Slot, slot.id).capacity, fresh(Slot, slot.id).booked) == (3, 3)  # kept: nobody is dropped
    booking_service.cancel(booking_id=bookings[0].id, by="veteran", veteran_id=bookings[0].veteran_id)
    assert (fresh(Slot, slot.id).capacity, fresh(Slot, slot.id).booked) == (2, 2)  # still full
    with pytest.raises(booking_service.BookingSlotFull):
        booking_service.book(veteran_id=create_veteran(station=world.x1).id, slot_id=slot.id)
    for booking in bookings[1:]:
        booking_service.cancel(booking_id=booking.id, by="veteran", veteran_id=booking.veteran_id)
    assert (fresh(Slot, slot.id).capacity, fresh(Slot, slot.id).booked) == (1, 0)  # the plan's capacity, no lower


def test_a_cancellation_leaves_a_slot_at_the_plan_capacity_alone(world):
    service = make_service(world.x1, capacity=3)
    slot = make_slot(service, capacity=3)
    booking = booking_service.book(veteran_id=create_veteran(station=world.x1).id, slot_id=slot.id)
    booking_service.cancel(booking_id=booking.id, by="veteran", veteran_id=booking.veteran_id)
    assert (fresh(Slot, slot.id).capacity, fresh(Slot, slot.id).booked) == (3, 0)


@pytest.mark.parametrize("day", [date(2027, 1, 1), date(2028, 5, 2), date(2027, 10, 1), date(2030, 10, 3)])
def test_an_unknown_year_keeps_its_fixed_date_holidays_closed(world, day):
    assert not calendar.known_year(day.year) and day.isoweekday() <= 5
    assert not calendar.is_open(day, world.x1.id)


def test_an_unknown_years_ordinary_weekday_is_open_and_a_nationwide_entry_still_wins(world):
    assert calendar.is_open(date(2027, 1, 4), world.x1.id)  # a Monday
    calendar.set_day(actor=world.sys_admin, day=date(2027, 1, 1), is_open=True, note="特殊安排")
    assert calendar.is_open(date(2027, 1, 1), world.x1.id)


@pytest.mark.parametrize("field", ["slot_minutes", "capacity", "book_ahead_days", "cutoff_minutes"])
def test_a_superscript_digit_in_the_catalog_form_is_a_422(portal_app, world, field):
    data = dict(station=world.x1.id, name="证明开具", slot_minutes="30", capacity="5", book_ahead_days="14")
    data.update({"cutoff_minutes": "120", "plan-1-0": "09:00-12:00", field: "²"})
    page = portal_as(portal_app, world.target).post("/bookings/catalog/new", data=data, expect=422).text
    assert "之间的整数" in page


def test_a_calendar_entry_two_years_ahead_counts_the_year_in_china(world):
    from freezegun import freeze_time

    with freeze_time("2026-12-31T17:00:00Z"):  # 2027-01-01 01:00 CST: the year in China is already 2027
        calendar.set_day(actor=world.sys_admin, day=date(2029, 2, 1), is_open=False, note="春节")
    assert not calendar.is_open(date(2029, 2, 1), world.x1.id)
