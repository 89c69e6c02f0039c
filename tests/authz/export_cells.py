"""exports slice (issue 12): the authorization matrix's cells for the export routes (kept apart so test_matrix.py
stays under the module size ceiling). An export button queues a job; the unit asked for must be in scope."""

from tests.authz.cells import REG_VIEWERS_OF_X, STAFF, TRAVEL_VIEWERS_OF_X, VETERAN_VIEWERS_OF_X, Cell, _year
from tests.exports.helpers import create_done_export

EXPORT_CELLS = {
    ("portal", "travel.export", "POST"): Cell(
        "POST", "/travel/export", TRAVEL_VIEWERS_OF_X, data=lambda w: {"unit": w.x.id, "status": "planned"}
    ),
    ("portal", "registration.figures_export", "POST"): Cell(
        "POST", "/registration/figures/export", REG_VIEWERS_OF_X, data=lambda w: {"year": _year(), "unit": w.x.id}
    ),
    ("portal", "veterans.export", "POST"): Cell(
        "POST", "/veterans/export", VETERAN_VIEWERS_OF_X, data=lambda w: {"unit": w.x1.id}
    ),
    ("portal", "exports.index", "GET"): Cell("GET", "/exports/", STAFF, notes="one's own jobs only"),
    ("portal", "exports.download", "GET"): Cell(
        "GET",
        lambda w: f"/exports/{create_done_export(w.staff_x, w.x).id}/download",
        ("staff_x",),
        notes="the requester only; anyone else (and anyone after expiry) gets the not-found answer",
    ),
}
