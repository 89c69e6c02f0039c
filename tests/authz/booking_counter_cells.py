"""bookings slice (issue 14), counter helper: the authorization matrix's cells for 预约窗口 (the day's list:
bookings.view; every action: bookings.counter; objects of station X1, out of staff_y's scope: 404). Objects are made
on first use: a slot of X1 starting in two minutes with a booking of veteran A; the day's page also gets a booking
whose slot has ended, of a veteran with a no-show block, so it offers every confirmed form (no-show and lift too;
within two minutes after midnight CST no slot of the day can have ended yet)."""

from tests.authz.cells import Cell

VIEWERS_OF_X = ("staff_x", "supervisor_parent")  # bookings.view with X1 in the subtree
CLERKS_OF_X = ("staff_x",)  # bookings.counter with X1 in the subtree


def _slot(w):
    if "counter_slot" not in w.objects:
        from datetime import timedelta

        from backend.bookings.models import BookingService, Slot
        from backend.db import transaction, utcnow
        from backend.extensions import db

        starts = utcnow().replace(second=0, microsecond=0) + timedelta(minutes=2)
        with transaction():
            service = BookingService(station_id=w.x1.id, name="政策咨询", plan={}, location="二号窗口")
            db.session.add(service)
            db.session.flush()
            slot = Slot(
                service_id=service.id, station_id=w.x1.id, starts_at=starts, ends_at=starts + timedelta(minutes=30)
            )
            db.session.add(slot)
        w.objects["counter_slot"] = slot
    return w.objects["counter_slot"]


def _ended_booking(w):
    """A booking of the same CST day whose slot is over, of another veteran of X1 with a no-show block."""
    from datetime import timedelta

    from backend.bookings import service
    from backend.bookings.counter import cst_day, day_bounds
    from backend.bookings.models import BookingBlock, Slot
    from backend.db import transaction, utcnow
    from backend.extensions import db
    from tests.factories import create_veteran

    now = utcnow()
    start_of_day, _ = day_bounds(cst_day(_slot(w).starts_at))
    starts = max(start_of_day, now - timedelta(minutes=40))
    ends = max(starts + timedelta(minutes=1), now - timedelta(minutes=1))
    with transaction():
        slot = Slot(service_id=_slot(w).service_id, station_id=w.x1.id, starts_at=starts, ends_at=ends)
        db.session.add(slot)
    veteran = create_veteran(station=w.x1, name="爽约者")
    booking = service.book(veteran_id=veteran.id, slot_id=slot.id, now=starts - timedelta(hours=1))
    with transaction():
        db.session.add(BookingBlock(veteran_id=veteran.id, blocked_until=now + timedelta(days=30), no_shows=3))
    return booking


def _day_page(w):
    day = _day(w)
    _ended_booking(w)
    return f"/bookings/counter?station={w.x1.id}&day={day}"


def _booking(w):
    if "counter_booking" not in w.objects:
        from backend.bookings import service

        w.objects["counter_booking"] = service.book(veteran_id=w.veteran.id, slot_id=_slot(w).id)
    return w.objects["counter_booking"]


def _day(w):
    from backend.bookings.counter import cst_day

    return cst_day(_booking(w).starts_at).isoformat()


def _station_form(w, **extra):
    return {"station": str(w.x1.id), "day": _day(w), **extra}


BOOKING_COUNTER_CELLS = {
    ("portal", "bookings.counter", "GET"): Cell(
        "GET", _day_page, VIEWERS_OF_X, notes="with a booking over (no-show) of a blocked veteran (lift)"
    ),
    ("portal", "bookings.counter_check_in", "POST"): Cell(
        "POST", "/bookings/counter/check-in", CLERKS_OF_X, data=lambda w: _station_form(w, code=_booking(w).code)
    ),
    ("portal", "bookings.counter_complete", "POST"): Cell(
        "POST",
        lambda w: f"/bookings/counter/bookings/{_booking(w).id}/complete",
        CLERKS_OF_X,
        data={"note": "已办结"},
        notes="not checked in yet: a flash message (past authorization)",
    ),
    ("portal", "bookings.counter_no_show", "POST"): Cell(
        "POST",
        lambda w: f"/bookings/counter/bookings/{_booking(w).id}/no-show",
        CLERKS_OF_X,
        notes="the slot has not ended: a flash message (past authorization)",
    ),
    ("portal", "bookings.counter_cancel", "POST"): Cell(
        "POST", lambda w: f"/bookings/counter/bookings/{_booking(w).id}/cancel", CLERKS_OF_X, data={"reason": "矩阵"}
    ),
    ("portal", "bookings.counter_cancel_slot", "POST"): Cell(
        "POST", lambda w: f"/bookings/counter/slots/{_slot(w).id}/cancel", CLERKS_OF_X, data={"reason": "矩阵"}
    ),
    ("portal", "bookings.counter_lift_block", "POST"): Cell(
        "POST",
        lambda w: f"/bookings/counter/blocks/{w.veteran.id}/lift",
        CLERKS_OF_X,
        notes="no block in force: a flash message (past authorization)",
    ),
    ("portal", "bookings.counter_book", "GET"): Cell(
        "GET", lambda w: f"/bookings/counter/book?station={w.x1.id}&veteran={w.veteran.id}", CLERKS_OF_X
    ),
    ("portal", "bookings.counter_book", "POST"): Cell(
        "POST",
        "/bookings/counter/book",
        CLERKS_OF_X,
        data=lambda w: {"station": str(w.x1.id), "veteran": str(w.veteran.id), "slot": str(_slot(w).id)},
    ),
}
