"""The booking core's book(): one place per booking, never beyond capacity, one active booking per service, codes."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from backend.audit.models import AuditLog
from backend.bookings import codes, qr
from backend.bookings import service as booking_service
from backend.bookings.models import Booking, Slot
from backend.db import utcnow
from backend.errors import PermissionDenied
from backend.extensions import db
from backend.registration.windows import today_cst
from backend.veterans.service import VeteranNotFound
from tests.bookings.test_booking_support import block, count_bookings, cst, fresh, make_service, make_slot
from tests.factories import create_veteran
from tests.registration.helpers import account_for


@pytest.fixture
def setting(world):
    service = make_service(world.x1)
    return world, service, make_slot(service), create_veteran(station=world.x1)


def test_book_takes_one_place_and_gives_a_code(setting):
    world, service, slot, veteran = setting
    account = account_for(veteran)
    booking = booking_service.book(veteran_id=veteran.id, slot_id=slot.id, account=account)
    assert (booking.status, booking.channel, booking.slot_id, booking.service_id) == (
        "booked",
        "phone",
        slot.id,
        service.id,
    )
    assert booking.station_id == world.x1.id and booking.starts_at == slot.starts_at
    assert len(booking.code) == codes.LENGTH and set(booking.code) <= set(codes.ALPHABET)
    assert fresh(Slot, slot.id).booked == 1
    audit = db.session.scalars(select(AuditLog).where(AuditLog.action == "bookings.phone_booked")).all()
    assert [(a.object_id, a.org_path) for a in audit] == [(str(booking.id), world.x1.path)]


def test_book_full_slot_raises_slot_full_and_leaves_nothing(setting):
    world, service, _, veteran = setting
    slot = make_slot(service, capacity=2, booked=2)
    with pytest.raises(booking_service.BookingSlotFull):
        booking_service.book(veteran_id=veteran.id, slot_id=slot.id)
    assert count_bookings(veteran_id=veteran.id) == 0
    assert fresh(Slot, slot.id).booked == 2


def test_book_same_service_twice_raises_duplicate(setting):
    world, service, slot, veteran = setting
    first = booking_service.book(veteran_id=veteran.id, slot_id=slot.id)
    other = make_slot(service, days=2)
    with pytest.raises(booking_service.BookingDuplicate) as raised:
        booking_service.book(veteran_id=veteran.id, slot_id=other.id)
    assert raised.value.details == {"booking_id": first.id}
    assert count_bookings(veteran_id=veteran.id) == 1
    assert fresh(Slot, other.id).booked == 0


def test_duplicate_caught_by_the_unique_index_leaves_nothing_behind(setting, monkeypatch):
    """The race the pre-check cannot see: the partial unique index refuses, the whole transaction rolls back."""
    world, service, slot, veteran = setting
    booking_service.book(veteran_id=veteran.id, slot_id=slot.id)
    other = make_slot(service, days=2)
    monkeypatch.setattr(booking_service, "_active_booking_id", lambda *a: None)
    with pytest.raises(booking_service.BookingDuplicate):
        booking_service.book(veteran_id=veteran.id, slot_id=other.id)
    assert count_bookings(veteran_id=veteran.id) == 1
    assert fresh(Slot, other.id).booked == 0 and fresh(Slot, slot.id).booked == 1


def test_book_again_after_cancelling_is_allowed(setting):
    world, service, slot, veteran = setting
    first = booking_service.book(veteran_id=veteran.id, slot_id=slot.id)
    booking_service.cancel(booking_id=first.id, by="veteran", veteran_id=veteran.id)
    again = booking_service.book(veteran_id=veteran.id, slot_id=slot.id)
    assert again.id != first.id and fresh(Slot, slot.id).booked == 1


def test_book_slot_of_another_station_raises_slot_not_found(setting):
    world, _, _, veteran = setting
    foreign = make_slot(make_service(world.y1))
    with pytest.raises(booking_service.SlotNotFound):
        booking_service.book(veteran_id=veteran.id, slot_id=foreign.id)
    with pytest.raises(booking_service.SlotNotFound):
        booking_service.book(veteran_id=veteran.id, slot_id=10**12)
    assert fresh(Slot, foreign.id).booked == 0


@pytest.mark.parametrize(
    ("slot_args", "reason"),
    [
        ({"status": "cancelled"}, "closed"),
        ({"status": "withdrawn"}, "closed"),
        ({"days": -1}, "started"),
        ({"days": 15}, "not_open_yet"),
    ],
)
def test_book_unbookable_slot_raises_slot_unavailable(setting, slot_args, reason):
    world, service, _, veteran = setting
    slot = make_slot(service, **slot_args)
    with pytest.raises(booking_service.SlotUnavailable) as raised:
        booking_service.book(veteran_id=veteran.id, slot_id=slot.id)
    assert raised.value.details == {"reason": reason}


def test_book_last_day_of_the_window_is_allowed(setting):
    world, service, _, veteran = setting
    slot = make_slot(service, days=service.book_ahead_days, hour=9)
    assert booking_service.book(veteran_id=veteran.id, slot_id=slot.id).status == "booked"


def test_book_slot_that_started_a_second_ago_raises_slot_unavailable(setting):
    world, service, _, veteran = setting
    slot = make_slot(service, starts_at=cst(today_cst(), 10))
    with pytest.raises(booking_service.SlotUnavailable):
        booking_service.book(veteran_id=veteran.id, slot_id=slot.id, now=slot.starts_at + timedelta(seconds=1))
    booking = booking_service.book(veteran_id=veteran.id, slot_id=slot.id, now=slot.starts_at - timedelta(seconds=1))
    assert booking.status == "booked"


def test_book_of_an_inactive_service_raises_slot_unavailable(setting):
    world, _, _, veteran = setting
    slot = make_slot(make_service(world.x1, active=False))
    with pytest.raises(booking_service.SlotUnavailable):
        booking_service.book(veteran_id=veteran.id, slot_id=slot.id)


def test_book_while_blocked_raises_blocked_with_the_date(setting):
    world, service, slot, veteran = setting
    block(veteran)
    with pytest.raises(booking_service.BookingBlocked) as raised:
        booking_service.book(veteran_id=veteran.id, slot_id=slot.id)
    assert raised.value.details["blocked_until"].endswith("+08:00")
    assert fresh(Slot, slot.id).booked == 0


def test_counter_booking_records_the_clerk_and_channel(setting):
    world, service, slot, veteran = setting
    booking = booking_service.book(veteran_id=veteran.id, slot_id=slot.id, channel="counter", actor=world.staff_x)
    assert (booking.channel, booking.created_by_id) == ("counter", world.staff_x.id)
    assert fresh(Slot, slot.id).booked == 1


def test_counter_booking_outside_scope_raises_not_found(setting):
    world, service, slot, veteran = setting
    with pytest.raises(VeteranNotFound):
        booking_service.book(veteran_id=veteran.id, slot_id=slot.id, channel="counter", actor=world.staff_y)
    with pytest.raises(PermissionDenied):
        booking_service.book(veteran_id=veteran.id, slot_id=slot.id, channel="counter", actor=world.auditor)
    assert fresh(Slot, slot.id).booked == 0


def test_taken_code_is_drawn_again(setting, monkeypatch):
    world, service, slot, veteran = setting
    taken = booking_service.book(veteran_id=veteran.id, slot_id=slot.id).code
    draws = iter([taken, taken, "ACDEFGHJ"])
    monkeypatch.setattr(codes, "random_code", lambda: next(draws))
    second = create_veteran(station=world.x1)
    assert booking_service.book(veteran_id=second.id, slot_id=slot.id).code == "ACDEFGHJ"


def test_code_collision_at_insert_retries_under_a_savepoint(setting, monkeypatch):
    """Two bookings drawing the same code at once: the unique constraint refuses the second, which draws again."""
    world, service, slot, veteran = setting
    taken = booking_service.book(veteran_id=veteran.id, slot_id=slot.id).code
    draws = iter([taken, "KMNPQRTU"])
    monkeypatch.setattr(codes, "random_code", lambda: next(draws))
    second = create_veteran(station=world.x1)
    booking = booking_service.book(veteran_id=second.id, slot_id=slot.id)
    assert booking.code == "KMNPQRTU" and fresh(Slot, slot.id).booked == 2
    assert count_bookings(slot_id=slot.id) == 2


def test_codes_avoid_look_alike_characters():
    assert not set("0O1IL2Z5S8B") & set(codes.ALPHABET)
    assert codes.normalize(" acd-efg hj\n") == "ACDEFGHJ"


def test_qr_is_an_svg_data_uri():
    uri = qr.svg_data_uri("ACDEFGHJ")
    assert uri.startswith("data:image/svg+xml") and "svg" in uri


def test_booking_rows_equal_the_slot_counter_after_mixed_traffic(setting):
    world, service, slot, _ = setting
    vets = [create_veteran(station=world.x1) for _ in range(7)]
    results = []
    for v in vets:
        try:
            results.append(booking_service.book(veteran_id=v.id, slot_id=slot.id))
        except booking_service.BookingSlotFull:
            results.append(None)
    assert sum(r is not None for r in results) == service.capacity
    booking_service.cancel(booking_id=results[0].id, by="veteran", veteran_id=vets[0].id, now=utcnow())
    active = db.session.scalar(
        select(db.func.count()).select_from(Booking).where(Booking.slot_id == slot.id, Booking.status == "booked")
    )
    assert active == fresh(Slot, slot.id).booked == service.capacity - 1


def test_conditional_update_alone_refuses_a_full_slot(setting):
    """The read may be stale under concurrency: the conditional UPDATE decides, whatever the session saw."""
    from backend.db import transaction

    world, service, _, veteran = setting
    slot = make_slot(service, capacity=1, booked=1)
    with pytest.raises(booking_service.BookingSlotFull), transaction():
        booking_service._take_place(slot.id)
    assert fresh(Slot, slot.id).booked == 1
