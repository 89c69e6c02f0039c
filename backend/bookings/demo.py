"""Demo bookings: the six default services at every demo station (weekdays 09:00–12:00 and 14:00–17:30), their
slots for the past four weeks to a week ahead, and bookings in every state (completed, no-show, cancelled by the
veteran and by the station, checked in and booked today, booked tomorrow), so the counter, the reminders and the
figures show data in `make run`. Seeded, repeatable."""

import random
from datetime import timedelta

from sqlalchemy import select

from backend.bookings import codes as booking_codes
from backend.bookings.catalog import DEFAULT_PLAN, DEFAULT_SERVICES
from backend.bookings.models import Booking, BookingService, Slot
from backend.bookings.reminders import cst_day_bounds
from backend.bookings.slots import ensure_slots
from backend.extensions import db
from backend.registration.windows import CST, today_cst
from backend.veterans.models import Veteran

LOCATIONS = {"政策咨询": "二楼政策咨询室", "就业指导": "二楼就业服务室", "心理疏导": "三楼心理咨询室"}
PAST_WEEKS = 4


def load(units, seed=20261202):
    """Services, slots and bookings for the demo stations (called inside the demo transaction)."""
    rng = random.Random(seed)
    today = today_cst()
    first = today - timedelta(days=today.weekday() + 7 * PAST_WEEKS)
    last = today + timedelta(days=7)
    stations = sorted((u for u in units.values() if u.level == "station"), key=lambda u: u.path)
    codes = set()
    for station in stations:
        veterans = db.session.scalars(
            select(Veteran.id).where(Veteran.station_id == station.id).order_by(Veteran.id)
        ).all()
        for name, description, materials in DEFAULT_SERVICES:
            service = BookingService(
                station_id=station.id,
                name=name,
                description=description,
                materials=materials or None,
                location=LOCATIONS.get(name, "一楼综合服务窗口"),
                plan=DEFAULT_PLAN,
                slot_minutes=30,
                capacity=rng.choice((3, 4, 5)),
                book_ahead_days=14,
                cutoff_minutes=120,
            )
            db.session.add(service)
            db.session.flush()
            slots = _slots(service, first, last)
            if veterans:
                _book(rng, service, slots, veterans, today, codes)


def _slots(service, first, last):
    """The service's slots over [first, last] from the catalog's generator (plan and China's calendar)."""
    ensure_slots(service, first, last)
    db.session.flush()
    return db.session.scalars(
        select(Slot)
        .where(Slot.service_id == service.id, Slot.starts_at >= cst_day_bounds(first)[0])
        .order_by(Slot.starts_at)
    ).all()


def _book(rng, service, slots, veterans, today, codes):
    """Bookings on some slots: the past ends completed, no-show or cancelled; today is booked or checked in;
    tomorrow is booked. Active bookings (booked, checked in) use each veteran at most once per service."""
    free = list(veterans)
    rng.shuffle(free)
    for slot in slots:
        day = slot.starts_at.astimezone(CST).date()
        if day > today + timedelta(days=1) or rng.random() > (0.45 if day >= today else 0.3):
            continue
        for veteran_id in rng.sample(veterans, min(len(veterans), rng.randint(1, slot.capacity))):
            status, by = _state(rng, day, today)
            if status in ("booked", "checked_in"):
                if not free:
                    continue
                veteran_id = free.pop()
            booking = Booking(
                veteran_id=veteran_id,
                service_id=service.id,
                slot_id=slot.id,
                station_id=slot.station_id,
                starts_at=slot.starts_at,
                code=_code(rng, codes),
                status=status,
                channel=rng.choice(("phone", "phone", "phone", "counter")),
                created_at=slot.starts_at - timedelta(days=rng.randint(1, 10)),
            )
            if status == "cancelled":
                booking.cancelled_by, booking.cancelled_at = by, slot.starts_at - timedelta(hours=rng.randint(3, 48))
                booking.cancel_reason = "个人原因" if by == "veteran" else "工作人员临时外出，请改约"
            else:
                slot.booked += 1
            if status in ("checked_in", "completed"):
                booking.checked_in_at = slot.starts_at - timedelta(minutes=5)
            if status == "completed":
                booking.completed_at, booking.note = slot.ends_at, "已办结"
            db.session.add(booking)


def _state(rng, day, today):
    """(status, cancelled_by) of a demo booking on `day`."""
    if day < today:
        roll = rng.random()
        if roll < 0.68:
            return "completed", None
        if roll < 0.8:
            return "no_show", None
        return "cancelled", "veteran" if roll < 0.93 else "station"
    if day == today:
        return rng.choice((("booked", None), ("booked", None), ("checked_in", None), ("cancelled", "veteran")))
    return ("booked", None) if rng.random() < 0.85 else ("cancelled", "veteran")


def _code(rng, codes):
    """A seeded check-in code in the counter's alphabet (backend/bookings/codes.py), unique within the demo."""
    while True:
        code = "".join(rng.choice(booking_codes.ALPHABET) for _ in range(booking_codes.LENGTH))
        if code not in codes:
            codes.add(code)
            return code
