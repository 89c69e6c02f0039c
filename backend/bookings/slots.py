"""Slots from the working plan and China's calendar: generation (idempotent, set-based), free slots, and keeping
slots in line with a changed plan or calendar without ever dropping a booking.

A slot "fits" when its (start, end) is one the current plan produces on an open day. After a change, future open
slots that no longer fit and hold no booking are withdrawn (status "withdrawn", never deleted); those holding
bookings stay open and are listed by `needs_attention` for the station to cancel or keep (the counter's page).
"""

from datetime import UTC, datetime, time, timedelta

from sqlalchemy import case, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm.attributes import set_committed_value

from backend.bookings import calendar
from backend.bookings.models import BookingService, CalendarDay, Slot
from backend.db import transaction, utcnow
from backend.extensions import db
from backend.registration.windows import CST, today_cst


def _minutes(text):
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


def _cst(day, minutes):
    return datetime.combine(day, time(minutes // 60, minutes % 60), tzinfo=CST).astimezone(UTC)


def day_times(service, day):
    """[(starts_at, ends_at)] in UTC that the plan gives on `day` (CST): each period is cut into slot_minutes; the
    last slot ends at or before the period's close (a lunch break is simply two periods)."""
    result = []
    step = service.slot_minutes
    for start, end in (service.plan or {}).get(str(day.isoweekday()), []):
        minute, close = _minutes(start), _minutes(end)
        while minute + step <= close:
            result.append((_cst(day, minute), _cst(day, minute + step)))
            minute += step
    return result


def fitting(service, first, last, days=None):
    """{starts_at: ends_at} of every slot the plan and the calendar give between first and last (CST, inclusive)."""
    if days is None:
        days = calendar.open_days(service.station_id, first, last)
    wanted = {}
    for day in sorted(d for d in days if first <= d <= last):
        wanted.update(day_times(service, day))
    return wanted


def _bounds(first, last):
    return _cst(first, 0), _cst(last + timedelta(days=1), 0)


def _insert(rows):
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    # a concurrent generator (the hourly job, a phone listing) may insert the same slot: skip it, never fail
    db.session.execute(insert(Slot).on_conflict_do_nothing(index_elements=["service_id", "starts_at"]), rows)


def ensure_slots(service, first_day, last_day, days=None):
    """Create the plan's slots for the open days between first_day and last_day (CST, inclusive); idempotent: only
    missing (service, start) rows are inserted, in one statement, and withdrawn slots that fit again reopen.
    Returns the number of slots created or reopened."""
    if first_day > last_day:
        return 0
    wanted = fitting(service, first_day, last_day, days)
    if not wanted:
        return 0
    low, high = _bounds(first_day, last_day)
    with transaction():
        existing = {
            starts_at: (slot_id, status, booked)
            for slot_id, starts_at, status, booked in db.session.execute(
                select(Slot.id, Slot.starts_at, Slot.status, Slot.booked).where(
                    Slot.service_id == service.id, Slot.starts_at >= low, Slot.starts_at < high
                )
            )
        }
        missing = [
            dict(
                service_id=service.id,
                station_id=service.station_id,
                starts_at=start,
                ends_at=end,
                capacity=service.capacity,
                booked=0,
                status="open",
            )
            for start, end in wanted.items()
            if start not in existing
        ]
        if missing:
            _insert(missing)
        reopen = [
            (existing[start][0], end)
            for start, end in wanted.items()
            if start in existing and existing[start][1:] == ("withdrawn", 0)
        ]
        for slot_id, end in reopen:
            db.session.execute(
                update(Slot)
                .where(Slot.id == slot_id, Slot.status == "withdrawn", Slot.booked == 0)
                .values(status="open", ends_at=end, capacity=service.capacity)
            )
    return len(missing) + len(reopen)


def window(service, now=None):
    """(first, last) CST days of the service's booking window: today to today + book_ahead_days."""
    today = today_cst(now)
    return today, today + timedelta(days=service.book_ahead_days)


def generate_window(service, now=None, force=False):
    """Generate the service's booking window past `slots_through` (all of it when `force`: a changed plan) and
    record the window's last day there. A read whose window is already generated costs nothing here: the hourly job
    or the first read of a CST day does the work. Returns the number of slots created or reopened.

    The service row is locked first, so a nationwide opening (apply_day, which moves `slots_through` back) either
    waits for this generation and then moves the mark back, or commits first and is read here."""
    first, last = window(service, now)
    if not force and service.slots_through is not None and service.slots_through >= last:
        return 0
    with transaction():
        through = db.session.scalar(
            select(BookingService.slots_through).where(BookingService.id == service.id).with_for_update()
        )
        created = 0
        if force or through is None or through < last:
            start = first if force or through is None else max(first, through + timedelta(days=1))
            created = ensure_slots(service, start, last)
            _mark(BookingService.id == service.id, last)
        else:
            last = through
    set_committed_value(service, "slots_through", last)
    return created


def _mark(condition, through):
    """Set `slots_through` by a Core UPDATE: not a staff edit, so version_id and updated_at stay as they are."""
    db.session.execute(
        update(BookingService)
        .where(condition)
        .values(slots_through=through, updated_at=BookingService.updated_at)
        .execution_options(synchronize_session=False)
    )


def free_slots(service, first, last, now=None):
    """Bookable slots of `service` between first and last (CST days, inclusive), earliest first, as rows (id,
    starts_at, ends_at, capacity, booked): open, starting in
    the future, booked < capacity, within the booking window, fitting the current plan and calendar. The window's
    slots are generated first if neither the hourly job nor an earlier read has done so yet."""
    now = now or utcnow()
    if not service.active:
        return []
    window_first, window_last = window(service, now)
    first, last = max(first, window_first), min(last, window_last)
    if first > last:
        return []
    generate_window(service, now)
    days = calendar.open_days(service.station_id, first, last)
    wanted = fitting(service, first, last, days)
    low, high = _bounds(first, last)
    rows = db.session.execute(  # rows, not Slot objects: the list is read-only (id, times, capacity, booked)
        select(Slot.id, Slot.starts_at, Slot.ends_at, Slot.capacity, Slot.booked)
        .where(
            Slot.service_id == service.id,
            Slot.status == "open",
            Slot.starts_at >= max(low, now),
            Slot.starts_at < high,
            Slot.starts_at > now,
            Slot.booked < Slot.capacity,
        )
        .order_by(Slot.starts_at)
    ).all()
    return [s for s in rows if wanted.get(s.starts_at) == s.ends_at]


def generate_all(now=None):
    """The hourly job: the booking window of every active service whose window moved past `slots_through` (once a
    CST day each, the new day only). Returns the number created."""
    services = db.session.scalars(select(BookingService).where(BookingService.active.is_(True))).all()
    return sum(generate_window(service, now) for service in services)


def lock_in_order(*conditions):
    """Lock the slots matching `conditions` by ascending id (the booking core's order, service.py) before a
    slot-wide UPDATE, whose own scan order is the heap's or an index's: otherwise it could hold a later slot while
    waiting for an earlier one that a reschedule holds, the reschedule waiting for the later one (a deadlock).
    One statement, nothing fetched; SQLite serialises writers and ignores FOR UPDATE."""
    ordered = select(Slot.id).where(*conditions).order_by(Slot.id).with_for_update().subquery()
    db.session.execute(select(func.count()).select_from(ordered))


def _future_open(service, now):
    return db.session.execute(
        select(Slot.id, Slot.starts_at, Slot.ends_at, Slot.booked).where(
            Slot.service_id == service.id, Slot.status == "open", Slot.starts_at > now
        )
    ).all()


def _misfits(service, rows):
    """The rows (id, starts_at, ends_at, booked) that the current plan and calendar no longer give."""
    if not rows:
        return []
    if not service.active:
        return list(rows)
    days = [r.starts_at.astimezone(CST).date() for r in rows]
    wanted = fitting(service, min(days), max(days))
    return [r for r in rows if wanted.get(r.starts_at) != r.ends_at]


def reconcile(service, now=None):
    """Bring the service's future slots in line with its plan and the calendar, in the caller's transaction:
    capacity applies to future open slots (never below `booked`), unbooked misfits are withdrawn, booked misfits
    stay (see needs_attention), and the booking window is generated. Returns the number withdrawn."""
    now = now or utcnow()
    with transaction():
        future = (Slot.service_id == service.id, Slot.status == "open", Slot.starts_at > now)
        lock_in_order(*future)
        db.session.execute(
            update(Slot)
            .where(*future)
            .values(capacity=case((Slot.booked > service.capacity, Slot.booked), else_=service.capacity))
            .execution_options(synchronize_session=False)
        )
        free = [r.id for r in _misfits(service, _future_open(service, now)) if r.booked == 0]
        for chunk in range(0, len(free), 500):
            db.session.execute(
                update(Slot)  # booked == 0 again here: a booking that landed meanwhile keeps its slot open
                .where(Slot.id.in_(free[chunk : chunk + 500]), Slot.booked == 0, Slot.status == "open")
                .values(status="withdrawn")
                .execution_options(synchronize_session=False)
            )
        if service.active:
            generate_window(service, now, force=True)
    return len(free)


def apply_day(day, station_id=None, now=None):
    """After a calendar change of `day` for one station (or nationwide: None), in the caller's transaction. Closed:
    one UPDATE withdraws that day's free future slots (nationwide: of every station without its own exception that
    day); booked ones stay and show in needs_attention. Open: the station's services get that day's slots now; a
    nationwide opening moves every later `slots_through` back to the day before, so each service's next read or the
    hourly job generates it (generate_window)."""
    now = now or utcnow()
    low, high = _bounds(day, day)
    if station_id is None:
        nation = db.session.scalar(
            select(CalendarDay.open).where(CalendarDay.unit_id.is_(None), CalendarDay.day == day)
        )
        day_open = calendar.library_open(day) if nation is None else nation
        own = select(CalendarDay.unit_id).where(CalendarDay.day == day, CalendarDay.unit_id.is_not(None))
        stations = Slot.station_id.not_in(own)
    else:
        day_open, stations = calendar.is_open(day, station_id), Slot.station_id == station_id
    with transaction():
        if day_open and station_id is None:  # the services' next read or the hourly job generate the day
            _mark(BookingService.slots_through >= day, day - timedelta(days=1))
        if not day_open:
            day_slots = (stations, Slot.starts_at >= max(low, now), Slot.starts_at < high, Slot.status == "open")
            lock_in_order(*day_slots)
            db.session.execute(
                update(Slot)
                .where(*day_slots, Slot.booked == 0)
                .values(status="withdrawn")
                .execution_options(synchronize_session=False)
            )
        elif station_id is not None:
            for service in db.session.scalars(
                select(BookingService).where(BookingService.station_id == station_id, BookingService.active.is_(True))
            ):
                if window(service, now)[0] <= day <= window(service, now)[1]:
                    ensure_slots(service, day, day)


def needs_attention(service, now=None):
    """Future slots holding bookings that the plan or calendar no longer gives (「需处理的预约」), earliest first:
    [{"slot_id", "starts_at", "ends_at", "day" (CST), "booked"}]."""
    rows = [r for r in _future_open(service, now or utcnow()) if r.booked > 0]
    misfits = sorted(_misfits(service, rows), key=lambda r: r.starts_at)
    return [
        {
            "slot_id": r.id,
            "starts_at": r.starts_at.astimezone(CST),
            "ends_at": r.ends_at.astimezone(CST),
            "day": r.starts_at.astimezone(CST).date(),
            "booked": r.booked,
        }
        for r in misfits
    ]
