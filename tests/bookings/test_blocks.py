"""No-show blocks (issue 14): 3 no-shows in 90 days block booking for 30 days; staff lift the block (audited)."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from backend.audit.models import AuditLog
from backend.bookings import blocks, counter
from backend.bookings import service as booking_service
from backend.extensions import db
from tests.bookings.test_counter import SLOT_AT, make_booking, make_service, make_slot
from tests.factories import create_veteran


def _no_show(world, veteran, starts_at):
    """A booking of `veteran` at `starts_at` (a service of its own) marked no-show just after its slot."""
    booking = make_booking(veteran, make_slot(make_service(world.x1), starts_at))
    after = starts_at + timedelta(minutes=31)
    counter.mark_no_show(actor=world.target, booking_id=booking.id, now=after)
    return after


def test_three_no_shows_within_the_window_block_booking_for_30_days(world):
    veteran = create_veteran(station=world.x1)
    _no_show(world, veteran, SLOT_AT)
    at = _no_show(world, veteran, SLOT_AT + timedelta(days=10))
    assert blocks.is_blocked(veteran.id, at) is None
    at = _no_show(world, veteran, SLOT_AT + timedelta(days=20))
    assert blocks.is_blocked(veteran.id, at) == at + timedelta(days=30)
    slot = make_slot(make_service(world.x1), at + timedelta(days=2))
    with pytest.raises(booking_service.BookingBlocked):
        make_booking(veteran, slot, now=at + timedelta(days=1))
    assert blocks.is_blocked(veteran.id, at + timedelta(days=30, seconds=1)) is None  # it runs out


def test_no_shows_outside_the_window_do_not_count(world):
    veteran = create_veteran(station=world.x1)
    _no_show(world, veteran, SLOT_AT)
    _no_show(world, veteran, SLOT_AT + timedelta(days=50))
    at = _no_show(world, veteran, SLOT_AT + timedelta(days=95))  # the first one is more than 90 days back
    assert blocks.is_blocked(veteran.id, at) is None


def test_a_fourth_no_show_extends_the_block(world):
    veteran = create_veteran(station=world.x1)
    booked_at = SLOT_AT - timedelta(hours=20)  # all four booked in advance, before any block
    bookings = [
        make_booking(veteran, make_slot(make_service(world.x1), SLOT_AT + timedelta(days=d)), now=booked_at)
        for d in (0, 1, 2, 5)
    ]
    for booking in bookings:
        at = booking.starts_at + timedelta(minutes=31)
        counter.mark_no_show(actor=world.target, booking_id=booking.id, now=at)
        if booking is bookings[2]:
            first_until = blocks.is_blocked(veteran.id, at)
    assert blocks.is_blocked(veteran.id, at) == at + timedelta(days=30) > first_until
    assert db.session.get(blocks.BookingBlock, veteran.id).no_shows == 4


def test_staff_lift_a_block_audited_and_the_veteran_books_again(world):
    veteran = create_veteran(station=world.x1)
    for day in (0, 1, 2):
        at = _no_show(world, veteran, SLOT_AT + timedelta(days=day))
    with pytest.raises(blocks.VeteranNotFound):  # staff of Y: out of scope, same as missing
        blocks.lift_block(actor=world.staff_y, veteran_id=veteran.id, now=at)
    block = blocks.lift_block(actor=world.target, veteran_id=veteran.id, now=at)
    assert (block.lifted_at, block.lifted_by_id) == (at, world.target.id)
    assert blocks.is_blocked(veteran.id, at) is None
    rows = db.session.scalars(select(AuditLog).where(AuditLog.action == "bookings.block_lifted")).all()
    assert [(r.object_type, r.object_id) for r in rows] == [("veteran", str(veteran.id))]
    slot = make_slot(make_service(world.x1), at + timedelta(days=2))
    assert make_booking(veteran, slot, now=at + timedelta(hours=1)).status == "booked"
    with pytest.raises(blocks.BlockNotFound):  # nothing left to lift
        blocks.lift_block(actor=world.target, veteran_id=veteran.id, now=at)


def test_after_a_lift_only_new_no_shows_count(world):
    veteran = create_veteran(station=world.x1)
    for day in (0, 1, 2):
        at = _no_show(world, veteran, SLOT_AT + timedelta(days=day))
    blocks.lift_block(actor=world.target, veteran_id=veteran.id, now=at)
    at = _no_show(world, veteran, SLOT_AT + timedelta(days=4))
    assert blocks.is_blocked(veteran.id, at) is None


def test_blocked_among_lists_only_blocks_in_force(world):
    blocked, free = create_veteran(station=world.x1), create_veteran(station=world.x1)
    for day in (0, 1, 2):
        at = _no_show(world, blocked, SLOT_AT + timedelta(days=day))
    assert blocks.blocked_among([blocked.id, free.id], at) == {blocked.id: at + timedelta(days=30)}
    assert blocks.blocked_among([], at) == {}
