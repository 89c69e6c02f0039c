"""Authorization matrix cells of the employment pages (issue 19). Veteran A (station X1) has a status, a support and a
civic role: out of staff_y's scope (404). employment.view: station staff, center reviewers, the supervisor;
employment.manage: station staff and center reviewers."""

from tests.authz.cells import Cell

VIEWERS = ("staff_x", "staff_y", "supervisor_parent")
VIEWERS_OF_X = ("staff_x", "supervisor_parent")
MANAGERS_OF_X = ("staff_x",)


def _page(w):
    from tests.employment.helpers import veteran_page

    return veteran_page(w)


def _support(w):
    from tests.employment.helpers import support

    return support(w)


def _role(w):
    from tests.employment.helpers import role

    return role(w)


EMPLOYMENT_CELLS = {
    ("portal", "employment.index", "GET"): Cell("GET", lambda w: f"/employment/?unit={w.x.id}", VIEWERS_OF_X),
    ("portal", "employment.unemployed", "GET"): Cell("GET", "/employment/unemployed", VIEWERS),
    ("portal", "employment.veteran", "GET"): Cell("GET", _page, VIEWERS_OF_X, notes="every form on offer"),
    ("portal", "employment.set_status", "POST"): Cell(
        "POST",
        lambda w: f"/employment/veterans/{w.veteran.id}/status",
        MANAGERS_OF_X,
        data={"status": "unemployed", "since": "2024-01-01", "wishes": "保安"},
    ),
    ("portal", "employment.record_support", "POST"): Cell(
        "POST",
        lambda w: f"/employment/veterans/{w.veteran.id}/supports",
        MANAGERS_OF_X,
        data={"kind": "referral", "given_on": "2024-02-01", "detail": "推荐至物业公司"},
    ),
    ("portal", "employment.set_outcome", "POST"): Cell(
        "POST",
        lambda w: f"/employment/supports/{_support(w).id}/outcome",
        MANAGERS_OF_X,
        data={"outcome": "succeeded"},
    ),
    ("portal", "employment.record_role", "POST"): Cell(
        "POST",
        lambda w: f"/employment/veterans/{w.veteran.id}/roles",
        MANAGERS_OF_X,
        data={"area": "border", "title": "护边员"},
    ),
    ("portal", "employment.record_activity", "POST"): Cell(
        "POST",
        lambda w: f"/employment/roles/{_role(w).id}/activities",
        MANAGERS_OF_X,
        data={"held_on": "2024-06-01", "title": "边境巡逻", "hours": "3"},
    ),
}
