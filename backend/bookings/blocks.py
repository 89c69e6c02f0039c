"""No-show blocks: a veteran who missed BOOKING_NO_SHOW_LIMIT bookings within BOOKING_NO_SHOW_WINDOW_DAYS may not
book for BOOKING_BLOCK_DAYS, unless staff lift the block (audited)."""

from datetime import timedelta

from flask import current_app
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError

from backend.audit import service as audit_service
from backend.bookings.models import Booking, BookingBlock
from backend.db import transaction, utcnow
from backend.errors import NotFound
from backend.extensions import db
from backend.orgs.scope import get_scoped, require_permission
from backend.veterans.models import Veteran
from backend.veterans.service import VeteranNotFound


class BlockNotFound(NotFound):
    code = "booking.block_not_found"
    message = "该退役军人当前没有预约限制"


def is_blocked(veteran_id, now=None):
    """The time until which `veteran_id` may not book (UTC), or None when they may book.

    A lifted block, or one that has run out, does not count.
    """
    now = now or utcnow()
    block = db.session.get(BookingBlock, veteran_id)
    if block is None or block.lifted_at is not None or block.blocked_until <= now:
        return None
    return block.blocked_until


def active_block(veteran_id, now=None):
    """The veteran's BookingBlock while it is in force, else None (for display)."""
    return db.session.get(BookingBlock, veteran_id) if is_blocked(veteran_id, now) else None


def count_recent_no_shows(veteran_id, now):
    """No-shows within the window, not counting those before the last lift (a lifted block starts afresh)."""
    since = now - timedelta(days=current_app.config["BOOKING_NO_SHOW_WINDOW_DAYS"])
    block = db.session.get(BookingBlock, veteran_id)
    if block is not None and block.lifted_at is not None and block.lifted_at > since:
        since = block.lifted_at
    return db.session.scalar(
        select(func.count())
        .select_from(Booking)
        .where(
            Booking.veteran_id == veteran_id,
            Booking.status == "no_show",
            Booking.starts_at > since,
            Booking.handled_by_id.is_not(None),  # marked by a clerk, not closed by the system (closing.py)
        )
    )


def note_no_show(veteran_id, now=None):
    """Called in mark_no_show's transaction after the booking became a no-show: writes or extends the block when the
    limit is reached. Returns the block in force, or None."""
    now = now or utcnow()
    _serialise(veteran_id)
    no_shows = count_recent_no_shows(veteran_id, now)
    if no_shows < current_app.config["BOOKING_NO_SHOW_LIMIT"]:
        return None
    until = now + timedelta(days=current_app.config["BOOKING_BLOCK_DAYS"])
    block = db.session.get(BookingBlock, veteran_id, with_for_update=True)
    if block is None:
        try:
            with db.session.begin_nested():  # two clerks marking this veteran's no-shows at once: one inserts
                block = BookingBlock(veteran_id=veteran_id, blocked_until=until, no_shows=no_shows, created_at=now)
                db.session.add(block)
            return block
        except IntegrityError:
            block = db.session.get(BookingBlock, veteran_id, with_for_update=True, populate_existing=True)
    if block is not None:
        active = block.lifted_at is None and block.blocked_until > now
        block.blocked_until = max(until, block.blocked_until) if active else until
        block.no_shows = no_shows
        block.lifted_at = block.lifted_by_id = None
        if not active:
            block.created_at = now
    db.session.flush()
    return block


def _serialise(veteran_id):
    """One no-show count per veteran at a time: two clerks marking this veteran's no-shows at once would each count
    without the other's uncommitted one and both stay under the limit. A transaction-scoped advisory lock keyed by
    the veteran (PostgreSQL; SQLite serialises writers), taken after the booking's row lock and never before it."""
    if db.session.get_bind().dialect.name == "postgresql":
        key = text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))")
        db.session.execute(key, {"key": f"booking_block:{int(veteran_id)}"})


def lift_block(*, actor, veteran_id, now=None):
    """Staff lift a veteran's block (bookings.counter, veteran in scope). Audited.

    :raises PermissionDenied, VeteranNotFound (missing or out of scope), BlockNotFound (no block in force)
    """
    require_permission(actor, "bookings.counter")
    now = now or utcnow()
    with transaction():
        veteran = get_scoped(Veteran, veteran_id, actor=actor, unit_column=Veteran.unit_id, not_found=VeteranNotFound)
        block = db.session.get(BookingBlock, veteran.id, with_for_update=True)
        if block is None or block.lifted_at is not None or block.blocked_until <= now:
            raise BlockNotFound()
        block.lifted_at, block.lifted_by_id = now, actor.id
        audit_service.record(
            actor=actor,
            action="bookings.block_lifted",
            object_type="veteran",
            object_id=veteran.id,
            details={"blocked_until": block.blocked_until.isoformat(), "no_shows": block.no_shows},
        )
    return block


def blocked_among(veteran_ids, now=None):
    """{veteran id: blocked_until} for those of `veteran_ids` with a block in force (one query, for a day's list)."""
    ids = sorted({int(v) for v in veteran_ids})
    if not ids:
        return {}
    now = now or utcnow()
    rows = db.session.execute(
        select(BookingBlock.veteran_id, BookingBlock.blocked_until).where(
            BookingBlock.veteran_id.in_(ids), BookingBlock.lifted_at.is_(None), BookingBlock.blocked_until > now
        )
    ).all()
    return dict(rows)
