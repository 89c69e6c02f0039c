"""bookings slice (issue 14), figures and reminders: the authorization matrix's cells for 预约统计 and its workbench
chart, and the plain builders they and tests/bookings/test_reminders*.py, test_figures*.py use (rows written
directly, with the slot counter kept equal to the places held, as the booking service would leave them)."""

from datetime import datetime, timedelta
from itertools import count

from backend.bookings.models import Booking, BookingService, Slot
from backend.db import transaction
from backend.extensions import db
from backend.registration.windows import CST
from tests.authz.cells import Cell

BOOKING_VIEWERS_OF_X = ("staff_x", "supervisor_parent")  # bookings.view, station X1 in their subtree
PLAN = {str(d): [["09:00", "12:00"], ["14:00", "17:30"]] for d in range(1, 6)} | {"6": [], "7": []}
_codes = count(1)


def make_service(station, *, name="档案查阅", materials="身份证\n退役证", location="一楼综合服务窗口", **kw):
    with transaction():
        service = BookingService(
            station_id=station.id, name=name, materials=materials, location=location, plan=PLAN, **kw
        )
        db.session.add(service)
    return service


def cst(day, hhmm="09:30"):
    """The UTC moment of `hhmm` China Standard Time on `day`."""
    return datetime.combine(day, datetime.strptime(hhmm, "%H:%M").time(), tzinfo=CST)


def make_slot(service, starts_at, *, minutes=30, capacity=5, status="open"):
    with transaction():
        slot = Slot(
            service_id=service.id,
            station_id=service.station_id,
            starts_at=starts_at,
            ends_at=starts_at + timedelta(minutes=minutes),
            capacity=capacity,
            status=status,
        )
        db.session.add(slot)
    return slot


def make_booking(slot, veteran, *, status="booked", cancelled_by=None, **kw):
    """A booking of `veteran` in `slot`; a booking that is not cancelled holds a place (slot.booked + 1)."""
    with transaction():
        booking = Booking(
            veteran_id=veteran.id,
            service_id=slot.service_id,
            slot_id=slot.id,
            station_id=slot.station_id,
            starts_at=slot.starts_at,
            code=f"T{next(_codes):07d}",
            status=status,
            cancelled_by=cancelled_by,
            **kw,
        )
        db.session.add(booking)
        if status != "cancelled":
            slot.booked += 1
    return booking


BOOKING_FIGURES_CELLS = {
    ("portal", "bookings.figures", "GET"): Cell(
        "GET", lambda w: f"/bookings/figures?unit={w.x1.id}", BOOKING_VIEWERS_OF_X, notes="station X1: its services"
    ),
    ("portal", "charts.bookings", "GET"): Cell(
        "GET", lambda w: f"/charts/bookings.json?unit={w.x.id}", BOOKING_VIEWERS_OF_X, notes="county X: 8 weeks"
    ),
}
