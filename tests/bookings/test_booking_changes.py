"""The booking core's cancel() and reschedule(): the place moves in one transaction; the cut-off at its edges."""

from datetime import timedelta

import pytest
from freezegun import freeze_time

from backend.bookings import service as booking_service
from backend.bookings.models import Booking, Slot
from backend.db import transaction
from backend.extensions import db
from tests.bookings.test_booking_support import fresh, make_service, make_slot
from tests.factories import create_veteran


@pytest.fixture
def booked(world):
    service = make_service(world.x1, cutoff_minutes=120)
    slot = make_slot(service, days=2)
    veteran = create_veteran(station=world.x1)
    booking = booking_service.book(veteran_id=veteran.id, slot_id=slot.id)
    return world, service, slot, veteran, booking


def test_cancel_returns_the_place_and_records_the_veteran(booked):
    world, service, slot, veteran, booking = booked
    done = booking_service.cancel(booking_id=booking.id, by="veteran", veteran_id=veteran.id)
    assert (done.status, done.cancelled_by, done.cancelled_by_staff_id) == ("cancelled", "veteran", None)
    assert done.cancelled_at is not None
    assert fresh(Slot, slot.id).booked == 0


def test_cancel_another_veterans_booking_raises_not_found(booked):
    world, service, slot, veteran, booking = booked
    other = create_veteran(station=world.x1)
    with pytest.raises(booking_service.BookingNotFound):
        booking_service.cancel(booking_id=booking.id, by="veteran", veteran_id=other.id)
    with pytest.raises(booking_service.BookingNotFound):
        booking_service.cancel(booking_id=10**12, by="veteran", veteran_id=veteran.id)
    assert fresh(Booking, booking.id).status == "booked" and fresh(Slot, slot.id).booked == 1


def test_cancel_twice_raises_invalid_state_and_returns_one_place(booked):
    world, service, slot, veteran, booking = booked
    booking_service.cancel(booking_id=booking.id, by="veteran", veteran_id=veteran.id)
    with pytest.raises(booking_service.BookingStateInvalid) as raised:
        booking_service.cancel(booking_id=booking.id, by="veteran", veteran_id=veteran.id)
    assert raised.value.details == {"status": "cancelled"}
    assert fresh(Slot, slot.id).booked == 0


def test_cancel_checked_in_booking_raises_invalid_state(booked):
    world, service, slot, veteran, booking = booked
    with transaction():
        db.session.get(Booking, booking.id).status = "checked_in"
    with pytest.raises(booking_service.BookingStateInvalid):
        booking_service.cancel(booking_id=booking.id, by="veteran", veteran_id=veteran.id)


def test_cancel_at_the_cutoff_is_allowed(booked):
    world, service, slot, veteran, booking = booked
    with freeze_time(slot.starts_at - timedelta(minutes=120)):
        assert booking_service.cancel(booking_id=booking.id, by="veteran", veteran_id=veteran.id).status == "cancelled"


def test_cancel_a_second_after_the_cutoff_raises_cutoff_passed(booked):
    world, service, slot, veteran, booking = booked
    with freeze_time(slot.starts_at - timedelta(minutes=120) + timedelta(seconds=1)):
        with pytest.raises(booking_service.CutoffPassed) as raised:
            booking_service.cancel(booking_id=booking.id, by="veteran", veteran_id=veteran.id)
    assert raised.value.details["deadline"].endswith("+08:00")
    assert fresh(Booking, booking.id).status == "booked" and fresh(Slot, slot.id).booked == 1


def test_station_cancels_after_the_cutoff_with_a_reason(booked):
    world, service, slot, veteran, booking = booked
    with freeze_time(slot.starts_at - timedelta(minutes=5)):
        done = booking_service.cancel(booking_id=booking.id, by="station", actor=world.staff_x, reason="工作人员病假")
    assert (done.cancelled_by, done.cancelled_by_staff_id, done.cancel_reason) == (
        "station",
        world.staff_x.id,
        "工作人员病假",
    )
    assert fresh(Slot, slot.id).booked == 0


def test_station_out_of_scope_cannot_cancel(booked):
    world, service, slot, veteran, booking = booked
    with pytest.raises(booking_service.BookingNotFound):
        booking_service.cancel(booking_id=booking.id, by="station", actor=world.staff_y, reason="x")


def test_reschedule_moves_the_place_atomically(booked):
    world, service, slot, veteran, booking = booked
    target = make_slot(service, days=3)
    moved = booking_service.reschedule(booking_id=booking.id, slot_id=target.id, veteran_id=veteran.id)
    assert (moved.slot_id, moved.starts_at, moved.status, moved.code) == (
        target.id,
        target.starts_at,
        "booked",
        booking.code,
    )
    assert fresh(Slot, slot.id).booked == 0 and fresh(Slot, target.id).booked == 1


def test_reschedule_into_a_full_slot_raises_slot_full_and_keeps_the_old_place(booked):
    world, service, slot, veteran, booking = booked
    full = make_slot(service, days=3, capacity=1, booked=1)
    with pytest.raises(booking_service.BookingSlotFull):
        booking_service.reschedule(booking_id=booking.id, slot_id=full.id, veteran_id=veteran.id)
    assert fresh(Booking, booking.id).slot_id == slot.id
    assert fresh(Slot, slot.id).booked == 1 and fresh(Slot, full.id).booked == 1


def test_reschedule_to_the_same_slot_changes_nothing(booked):
    world, service, slot, veteran, booking = booked
    booking_service.reschedule(booking_id=booking.id, slot_id=slot.id, veteran_id=veteran.id)
    assert fresh(Slot, slot.id).booked == 1


def test_reschedule_to_another_services_slot_raises_slot_unavailable(booked):
    world, service, slot, veteran, booking = booked
    other = make_slot(make_service(world.x1), days=3)
    with pytest.raises(booking_service.SlotUnavailable) as raised:
        booking_service.reschedule(booking_id=booking.id, slot_id=other.id, veteran_id=veteran.id)
    assert raised.value.details == {"reason": "other_service"}


def test_reschedule_to_another_stations_slot_raises_slot_not_found(booked):
    world, service, slot, veteran, booking = booked
    foreign = make_slot(make_service(world.y1), days=3)
    with pytest.raises(booking_service.SlotNotFound):
        booking_service.reschedule(booking_id=booking.id, slot_id=foreign.id, veteran_id=veteran.id)


def test_reschedule_into_a_past_or_closed_slot_raises_slot_unavailable(booked):
    world, service, slot, veteran, booking = booked
    for args in ({"days": -1}, {"days": 3, "status": "cancelled"}, {"days": 20}):
        target = make_slot(service, **args)
        with pytest.raises(booking_service.SlotUnavailable):
            booking_service.reschedule(booking_id=booking.id, slot_id=target.id, veteran_id=veteran.id)
    assert fresh(Slot, slot.id).booked == 1


def test_reschedule_after_the_cutoff_raises_cutoff_passed(booked):
    world, service, slot, veteran, booking = booked
    target = make_slot(service, days=3)
    with freeze_time(slot.starts_at - timedelta(minutes=119)):
        with pytest.raises(booking_service.CutoffPassed):
            booking_service.reschedule(booking_id=booking.id, slot_id=target.id, veteran_id=veteran.id)
    with freeze_time(slot.starts_at - timedelta(minutes=120)):
        booking_service.reschedule(booking_id=booking.id, slot_id=target.id, veteran_id=veteran.id)
    assert fresh(Slot, target.id).booked == 1


def test_reschedule_of_a_cancelled_booking_raises_invalid_state(booked):
    world, service, slot, veteran, booking = booked
    booking_service.cancel(booking_id=booking.id, by="veteran", veteran_id=veteran.id)
    with pytest.raises(booking_service.BookingStateInvalid):
        booking_service.reschedule(booking_id=booking.id, slot_id=make_slot(service).id, veteran_id=veteran.id)


def test_reschedule_of_another_veterans_booking_raises_not_found(booked):
    world, service, slot, veteran, booking = booked
    other = create_veteran(station=world.x1)
    with pytest.raises(booking_service.BookingNotFound):
        booking_service.reschedule(booking_id=booking.id, slot_id=make_slot(service).id, veteran_id=other.id)


def test_reschedule_clears_the_reminder_stamp(booked):
    world, service, slot, veteran, booking = booked
    with transaction():
        db.session.get(Booking, booking.id).reminded_at = slot.starts_at - timedelta(days=1)
    booking_service.reschedule(booking_id=booking.id, slot_id=make_slot(service, days=4).id, veteran_id=veteran.id)
    assert fresh(Booking, booking.id).reminded_at is None


def test_booking_moved_by_a_concurrent_reschedule_raises_stale_update(booked):
    """The booking is re-read under its lock (after the slot's): a move the caller's view missed is StaleUpdate."""
    from sqlalchemy import text

    from backend.errors import StaleUpdate

    world, service, slot, veteran, booking = booked
    other = make_slot(service, days=3)
    db.session.connection().execute(
        text("UPDATE booking SET slot_id = :s WHERE id = :b"), {"s": other.id, "b": booking.id}
    )
    with pytest.raises(StaleUpdate):
        booking_service.cancel(booking_id=booking.id, by="veteran", veteran_id=veteran.id)
