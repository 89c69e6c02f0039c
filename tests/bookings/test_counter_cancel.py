"""Station cancellations (a booking, a whole slot) notify each veteran at once and free the places; who cancelled is
recorded and never confused with the veteran's own cancellation; booking at the counter on a veteran's behalf."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from backend.bookings import blocks, counter
from backend.bookings import service as booking_service
from backend.bookings.models import Booking, Slot
from backend.extensions import db
from backend.notifications.models import Delivery, Notification
from backend.veterans.service import VeteranNotFound
from tests.bookings.test_counter import SLOT_AT, make_booking, make_service, make_slot
from tests.factories import create_staff, create_veteran

BEFORE = SLOT_AT - timedelta(hours=3)


def _deliveries(kind="booking.cancelled"):
    return db.session.execute(
        select(Notification, Delivery)
        .join(Delivery, Delivery.notification_id == Notification.id)
        .where(Notification.kind == kind)
        .order_by(Delivery.veteran_id)
    ).all()


def test_station_cancels_one_booking_with_a_reason_notifies_and_frees_the_place(world):
    veteran = create_veteran(station=world.x1)
    slot = make_slot(make_service(world.x1, capacity=1))
    booking = make_booking(veteran, slot)
    done = counter.cancel_booking(actor=world.target, booking_id=booking.id, reason="窗口设备故障", now=BEFORE)
    assert (done.status, done.cancelled_by, done.cancelled_by_staff_id) == ("cancelled", "station", world.target.id)
    assert done.cancel_reason == "窗口设备故障"
    [(notification, delivery)] = _deliveries()
    assert delivery.veteran_id == veteran.id and notification.sender_unit_id == world.x1.id
    assert notification.variables == {"预约时间": "2026-12-01 09:00", "服务站": world.x1.name, "原因": "窗口设备故障"}
    assert "窗口设备故障" in notification.body
    db.session.refresh(slot)
    assert slot.booked == 0
    other = create_veteran(station=world.x1)
    assert make_booking(other, slot).status == "booked"  # the freed place is bookable again


def test_cancel_needs_a_reason_and_a_booked_booking(world):
    booking = make_booking(create_veteran(station=world.x1), make_slot(make_service(world.x1)))
    with pytest.raises(counter.ValidationFailed):
        counter.cancel_booking(actor=world.target, booking_id=booking.id, reason="  ", now=BEFORE)
    counter.check_in(actor=world.target, station_id=None, code=booking.code, now=SLOT_AT)
    with pytest.raises(counter.BookingStateInvalid):
        counter.cancel_booking(actor=world.target, booking_id=booking.id, reason="临时有事", now=SLOT_AT)
    with pytest.raises(counter.BookingNotFound):
        counter.cancel_booking(actor=world.staff_y, booking_id=booking.id, reason="越权", now=BEFORE)
    assert _deliveries() == []


def test_cancel_slot_cancels_every_booked_booking_notifies_each_and_adjusts_the_counter(world):
    service = make_service(world.x1, capacity=5)
    slot = make_slot(service)
    veterans = [create_veteran(station=world.x1) for _ in range(3)]
    bookings = [make_booking(v, slot) for v in veterans]
    counter.check_in(actor=world.target, station_id=None, code=bookings[2].code, now=SLOT_AT - timedelta(minutes=30))
    other_slot = make_slot(service, SLOT_AT + timedelta(hours=1))
    untouched = make_booking(create_veteran(station=world.x1), other_slot)
    count = counter.cancel_slot(actor=world.target, slot_id=slot.id, reason="办事员生病", now=BEFORE)
    assert count == 2
    rows = db.session.scalars(select(Booking).where(Booking.slot_id == slot.id).order_by(Booking.id)).all()
    assert [(b.status, b.cancelled_by, b.cancelled_by_staff_id) for b in rows] == [
        ("cancelled", "station", world.target.id),
        ("cancelled", "station", world.target.id),
        ("checked_in", None, None),
    ]
    slot = db.session.get(Slot, slot.id)
    assert (slot.status, slot.booked, slot.cancel_reason) == ("cancelled", 1, "办事员生病")
    found = _deliveries()
    assert [d.veteran_id for _, d in found] == sorted(v.id for v in veterans[:2])
    assert {n.id for n, _ in found} == {found[0][0].id}  # one notification, a delivery per veteran
    assert db.session.get(Booking, untouched.id).status == "booked"
    with pytest.raises(counter.BookingStateInvalid):  # twice
        counter.cancel_slot(actor=world.target, slot_id=slot.id, reason="办事员生病", now=BEFORE)


def test_cancel_slot_out_of_scope_or_over_is_refused(world):
    slot = make_slot(make_service(world.x1))
    with pytest.raises(counter.SlotNotFound):
        counter.cancel_slot(actor=world.staff_y, slot_id=slot.id, reason="x", now=BEFORE)
    with pytest.raises(counter.BookingStateInvalid):
        counter.cancel_slot(actor=world.target, slot_id=slot.id, reason="x", now=SLOT_AT + timedelta(hours=1))
    with pytest.raises(counter.ValidationFailed):
        counter.cancel_slot(actor=world.target, slot_id=slot.id, reason="", now=BEFORE)


def test_the_veterans_own_cancellation_is_recorded_as_the_veterans(world):
    veteran = create_veteran(station=world.x1)
    booking = make_booking(veteran, make_slot(make_service(world.x1)))
    mine = booking_service.cancel(booking_id=booking.id, by="veteran", veteran_id=veteran.id, now=BEFORE)
    assert (mine.cancelled_by, mine.cancelled_by_staff_id) == ("veteran", None)
    assert _deliveries() == []  # nobody tells a veteran what they did themselves


def test_book_at_the_counter_on_a_veterans_behalf(world):
    veteran = create_veteran(station=world.x1)
    service = make_service(world.x1)
    slot = make_slot(service, SLOT_AT + timedelta(days=1))
    booking = counter.book_for(actor=world.target, veteran_id=veteran.id, slot_id=slot.id)
    assert (booking.channel, booking.created_by_id, booking.status) == ("counter", world.target.id, "booked")
    assert db.session.get(Slot, slot.id).booked == 1


def test_counter_booking_refuses_another_station_a_blocked_veteran_and_out_of_scope(world):
    slot = make_slot(make_service(world.x1), SLOT_AT + timedelta(days=1))
    city_clerk = create_staff(unit=world.city, roles=("station_staff",))
    with pytest.raises(counter.SlotNotFound):  # a veteran of another station (in scope for a wider actor)
        counter.book_for(actor=city_clerk, veteran_id=create_veteran(station=world.y1).id, slot_id=slot.id)
    with pytest.raises(VeteranNotFound):
        counter.book_for(actor=world.staff_x, veteran_id=create_veteran(station=world.y1).id, slot_id=slot.id)
    blocked = create_veteran(station=world.x1)
    with db.session.no_autoflush:
        db.session.add(blocks.BookingBlock(veteran_id=blocked.id, blocked_until=SLOT_AT + timedelta(days=30)))
    db.session.flush()
    with pytest.raises(booking_service.BookingBlocked):
        counter.book_for(actor=world.target, veteran_id=blocked.id, slot_id=slot.id)


def test_find_veterans_by_name_or_id_number_within_the_station(world):
    from tests.factories import valid_id_number

    number = valid_id_number()
    mine = create_veteran(station=world.x1, name="赵建军", id_number=number)
    create_veteran(station=world.y1, name="赵建国")
    assert counter.find_veterans(actor=world.target, station=world.x1, query="赵建") == [mine]
    assert counter.find_veterans(actor=world.target, station=world.x1, query=number) == [mine]
    assert counter.find_veterans(actor=world.target, station=world.x1, query="110101199001011234") == []
    assert counter.find_veterans(actor=world.target, station=world.x1, query="") == []
