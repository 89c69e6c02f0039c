"""Authorization matrix cells of the training pages (issue 19). A session at station X1 with one attendee and a
responsible person at X1: out of staff_y's scope (404). training.view: station staff, center reviewers, the
supervisor; training.manage: center reviewers (staff_x, staff_y)."""

from tests.authz.cells import Cell

VIEWERS = ("staff_x", "staff_y", "supervisor_parent")
VIEWERS_OF_X = ("staff_x", "supervisor_parent")
MANAGERS = ("staff_x", "staff_y")
MANAGERS_OF_X = ("staff_x",)


def _session(w):
    from tests.training.helpers import matrix_session

    return matrix_session(w)


def _responsible_page(w):
    from tests.training.helpers import responsible

    responsible(w)
    return f"/training/responsible/{w.x1.id}"


TRAINING_CELLS = {
    ("portal", "training.index", "GET"): Cell("GET", "/training/", VIEWERS),
    ("portal", "training.responsible", "GET"): Cell("GET", "/training/responsible", VIEWERS),
    ("portal", "training.edit_responsible", "GET"): Cell(
        "GET", _responsible_page, MANAGERS_OF_X, notes="a person named: the clear form is on offer"
    ),
    ("portal", "training.edit_responsible", "POST"): Cell(
        "POST", lambda w: f"/training/responsible/{w.x1.id}", MANAGERS_OF_X, data={"person_name": "张专干"}
    ),
    ("portal", "training.clear_responsible", "POST"): Cell(
        "POST", lambda w: f"/training/responsible/{w.x1.id}/clear", MANAGERS_OF_X
    ),
    ("portal", "training.sessions", "GET"): Cell("GET", "/training/sessions", VIEWERS),
    ("portal", "training.new_session", "GET"): Cell("GET", "/training/sessions/new", MANAGERS),
    ("portal", "training.new_session", "POST"): Cell(
        "POST",
        "/training/sessions/new",
        MANAGERS_OF_X,
        data=lambda w: {
            "unit": str(w.x1.id),
            "kind": "drill",
            "topic": "岗位练兵",
            "held_on": "2024-04-01",
            "hours": "2",
        },
        notes="staff_y names a unit outside its subtree (404)",
    ),
    ("portal", "training.session_detail", "GET"): Cell(
        "GET", lambda w: f"/training/sessions/{_session(w).id}", VIEWERS_OF_X
    ),
    ("portal", "training.add_attendee", "POST"): Cell(
        "POST",
        lambda w: f"/training/sessions/{_session(w).id}/attendees",
        MANAGERS_OF_X,
        data=lambda w: {"staff": str(w.staff_x.id), "result": "excellent", "score": "95"},
        notes="staff_x is at county X, not in X1's subtree: a flash message (past authorization)",
    ),
    ("portal", "training.remove_attendee", "POST"): Cell(
        "POST",
        lambda w: f"/training/sessions/{_session(w).id}/attendees/{w.objects['training_attendance'].id}/remove",
        MANAGERS_OF_X,
    ),
    ("portal", "training.hours", "GET"): Cell("GET", "/training/hours", VIEWERS),
}
