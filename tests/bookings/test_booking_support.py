"""Test data for the booking core and the phone API (helper functions only; no tests here)."""

import itertools
from datetime import UTC, datetime, time, timedelta

from backend.bookings.models import Booking, BookingBlock, BookingService, Slot
from backend.db import transaction, utcnow
from backend.extensions import db
from backend.registration.windows import CST, today_cst
from tests.factories import unique

_minute = itertools.count()  # default slots start a minute apart, so they never share (service, start)
ALL_WEEK = {str(d): [["09:00", "12:00"], ["14:00", "17:00"]] for d in range(1, 8)}


def make_service(station, **fields):
    values = dict(
        station_id=station.id,
        name=unique("档案查阅"),
        materials="身份证\n退役证",
        location="一楼2号窗口",
        plan=ALL_WEEK,
        slot_minutes=30,
        capacity=5,
        book_ahead_days=14,
        cutoff_minutes=120,
        active=True,
    )
    values.update(fields)
    with transaction():
        service = BookingService(**values)
        db.session.add(service)
    return service


def cst(day, hour=10, minute=0):
    return datetime.combine(day, time(hour, minute), tzinfo=CST).astimezone(UTC)


def make_slot(service, *, starts_at=None, days=1, hour=None, capacity=None, booked=0, status="open"):
    """A slot of `service` (default tomorrow 10:00 CST); slots need not fit the plan for book() and cancel()."""
    if starts_at is None:
        day = today_cst() + timedelta(days=days)
        starts_at = cst(day, hour) if hour is not None else cst(day, 8) + timedelta(minutes=next(_minute) % 600)
    with transaction():
        slot = Slot(
            service_id=service.id,
            station_id=service.station_id,
            starts_at=starts_at,
            ends_at=starts_at + timedelta(minutes=service.slot_minutes),
            capacity=service.capacity if capacity is None else capacity,
            booked=booked,
            status=status,
        )
        db.session.add(slot)
    return slot


def block(veteran, *, days=30):
    with transaction():
        db.session.add(BookingBlock(veteran_id=veteran.id, blocked_until=utcnow() + timedelta(days=days), no_shows=3))


def fresh(model, object_id):
    db.session.expire_all()
    return db.session.get(model, object_id)


def count_bookings(**where):
    from sqlalchemy import func, select

    query = select(func.count()).select_from(Booking)
    for name, value in where.items():
        query = query.where(getattr(Booking, name) == value)
    return db.session.scalar(query)


def veteran_token(api_app, veteran):
    """A bound WeChat account for `veteran` and its access token."""
    from miniprogram_api.security import issue_tokens
    from tests.registration.helpers import account_for

    account = account_for(veteran)
    with api_app.test_request_context():
        return issue_tokens(account)["access_token"]
