"""bookings slice (issue 14), catalog helper: the authorization matrix's cells for 服务项目 and the calendar pages
(bookings.manage within scope; nationwide days: bookings.calendar). Objects of station X1 are made on first use."""

from tests.authz.cells import Cell

MANAGERS_OF_X = ("staff_x",)  # bookings.manage with X1 in the subtree; staff_y's scope misses X1 (404)
CALENDAR_READERS = ("staff_x", "sys_admin", "sys_admin_y")  # bookings.manage for X1, or bookings.calendar


def _service(w):
    """A service of station X1 (made once per world)."""
    if "booking_service" not in w.objects:
        from backend.bookings.catalog import DEFAULT_PLAN
        from backend.bookings.models import BookingService
        from backend.db import transaction
        from backend.extensions import db

        with transaction():
            service = BookingService(station_id=w.x1.id, name="档案查阅", plan=DEFAULT_PLAN, materials="身份证")
            db.session.add(service)
        w.objects["booking_service"] = service
    return w.objects["booking_service"]


def _calendar_day(w):
    """A station exception of X1 (made once per world)."""
    if "calendar_day" not in w.objects:
        from datetime import date

        from backend.bookings.models import CalendarDay
        from backend.db import transaction
        from backend.extensions import db
        from backend.registration.windows import today_cst

        with transaction():  # in this year, so the calendar page lists it (with its confirmed delete form)
            row = CalendarDay(unit_id=w.x1.id, day=date(today_cst().year, 12, 31), open=False, note="矩阵")
            db.session.add(row)
        w.objects["calendar_day"] = row
    return w.objects["calendar_day"]


def _service_form(w, **extra):
    return {
        "version": _service(w).version_id, "name": "档案查阅", "slot_minutes": "30", "capacity": "5",
        "book_ahead_days": "14", "cutoff_minutes": "120", "plan-1-0": "09:00-12:00", **extra,
    }  # fmt: skip


BOOKING_CATALOG_CELLS = {
    ("portal", "bookings.catalog", "GET"): Cell("GET", lambda w: f"/bookings/catalog?station={w.x1.id}", MANAGERS_OF_X),
    ("portal", "bookings.catalog_defaults", "POST"): Cell(
        "POST", "/bookings/catalog/defaults", MANAGERS_OF_X, data=lambda w: {"station": w.x1.id}
    ),
    ("portal", "bookings.catalog_new", "GET"): Cell(
        "GET", lambda w: f"/bookings/catalog/new?station={w.x1.id}", MANAGERS_OF_X
    ),
    ("portal", "bookings.catalog_new", "POST"): Cell(
        "POST",
        "/bookings/catalog/new",
        MANAGERS_OF_X,
        data=lambda w: {k: v for k, v in _service_form(w, station=w.x1.id, name="证明开具").items() if k != "version"},
    ),
    ("portal", "bookings.catalog_edit", "GET"): Cell(
        "GET", lambda w: f"/bookings/catalog/{_service(w).id}", MANAGERS_OF_X
    ),
    ("portal", "bookings.catalog_edit", "POST"): Cell(
        "POST", lambda w: f"/bookings/catalog/{_service(w).id}", MANAGERS_OF_X, data=_service_form
    ),
    ("portal", "bookings.catalog_deactivate", "POST"): Cell(
        "POST",
        lambda w: f"/bookings/catalog/{_service(w).id}/deactivate",
        MANAGERS_OF_X,
        data=lambda w: {"version": _service(w).version_id},
    ),
    ("portal", "bookings.catalog_calendar", "GET"): Cell(
        "GET",
        lambda w: f"/bookings/calendar?station={_calendar_day(w).unit_id}",
        CALENDAR_READERS,
        notes="administrators see the nationwide days (the station is not theirs); staff_y: X1 is out of scope",
    ),
    ("portal", "bookings.catalog_calendar", "POST"): Cell(
        "POST",
        "/bookings/calendar",
        MANAGERS_OF_X,
        data=lambda w: {"station": w.x1.id, "day": "2026-12-30", "open": "0", "note": "矩阵"},
        notes="administrators may enter nationwide days only (kind=nation, tested in tests/bookings/test_catalog.py)",
    ),
    ("portal", "bookings.catalog_calendar_delete", "POST"): Cell(
        "POST",
        lambda w: f"/bookings/calendar/{_calendar_day(w).id}/delete",
        MANAGERS_OF_X,
        data=lambda w: {"station": w.x1.id},
    ),
}
