"""bookings slice (issue 14), booking core and phone helper: the authorization matrix's cells for the phone's booking
endpoints. Veteran A is at station X1, veteran B at Y1: X1's services, slots and A's booking are out of B's reach
(404). Objects are made on first use: a service of X1 with two slots tomorrow, and a booking of veteran A."""

from tests.authz.cells import VETERANS, Cell


def _service(w):
    if "phone_service" not in w.objects:
        from tests.bookings.test_booking_support import make_service, make_slot

        service = make_service(w.x1)
        w.objects["phone_service"] = service
        w.objects["phone_slots"] = [make_slot(service), make_slot(service)]
    return w.objects["phone_service"]


def _slot(w, index=0):
    _service(w)
    return w.objects["phone_slots"][index]


def _booking(w):
    if "phone_booking" not in w.objects:
        from backend.bookings import service

        w.objects["phone_booking"] = service.book(veteran_id=w.veteran.id, slot_id=_slot(w).id)
    return w.objects["phone_booking"]


BOOKING_API_CELLS = {
    ("api", "bookings.list_services", "GET"): Cell("GET", "/v1/services", VETERANS),
    ("api", "bookings.list_slots", "GET"): Cell(
        "GET", lambda w: f"/v1/services/{_service(w).id}/slots", ("veteran_a",), notes="B: another station's service"
    ),
    ("api", "bookings.list_bookings", "GET"): Cell("GET", "/v1/bookings", VETERANS),
    ("api", "bookings.create_booking", "POST"): Cell(
        "POST", "/v1/bookings", ("veteran_a",), data=lambda w: {"slot_id": _slot(w).id}, notes="B: another station"
    ),
    ("api", "bookings.cancel_booking", "POST"): Cell(
        "POST", lambda w: f"/v1/bookings/{_booking(w).id}/cancel", ("veteran_a",), notes="B: not B's booking"
    ),
    ("api", "bookings.reschedule_booking", "POST"): Cell(
        "POST",
        lambda w: f"/v1/bookings/{_booking(w).id}/reschedule",
        ("veteran_a",),
        data=lambda w: {"slot_id": _slot(w, 1).id},
    ),
}
