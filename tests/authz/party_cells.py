"""Authorization matrix cells of the party pages (issue 19). Veteran A (station X1) is a member of a branch at X1 with
an open inbound transfer and a yearly evaluation with the branch's document: out of staff_y's scope (404). party.view:
station staff, center reviewers, the supervisor; party.manage: station staff and center reviewers."""

from tests.authz.cells import Cell

VIEWERS = ("staff_x", "staff_y", "supervisor_parent")  # party.view: each within its own scope
VIEWERS_OF_X = ("staff_x", "supervisor_parent")
MANAGERS_OF_X = ("staff_x",)


def _veteran_page(w):
    from tests.party.helpers import veteran_page

    return veteran_page(w)


def _branch(w):
    from tests.party.helpers import branch

    return branch(w)


def _transfer(w):
    from tests.party.helpers import open_transfer

    return open_transfer(w)


def _evaluation(w):
    from tests.party.helpers import evaluation

    return evaluation(w)


def _branches_page(w):
    _branch(w)
    return "/party/branches"


PARTY_CELLS = {
    ("portal", "party.index", "GET"): Cell("GET", lambda w: f"/party/?unit={w.x.id}", VIEWERS_OF_X),
    ("portal", "party.members", "GET"): Cell("GET", "/party/members", VIEWERS),
    ("portal", "party.branches", "GET"): Cell("GET", _branches_page, VIEWERS, notes="a branch at X1 to deactivate"),
    ("portal", "party.create_branch", "POST"): Cell(
        "POST",
        "/party/branches",
        MANAGERS_OF_X,
        data=lambda w: {"unit": str(w.x1.id), "name": "矩阵党支部"},
        notes="staff_y names a unit outside its subtree (404)",
    ),
    ("portal", "party.deactivate_branch", "POST"): Cell(
        "POST", lambda w: f"/party/branches/{_branch(w).id}/deactivate", MANAGERS_OF_X
    ),
    ("portal", "party.veteran", "GET"): Cell("GET", _veteran_page, VIEWERS_OF_X, notes="every form on offer"),
    ("portal", "party.set_membership", "POST"): Cell(
        "POST",
        lambda w: f"/party/veterans/{w.veteran.id}/membership",
        MANAGERS_OF_X,
        data=lambda w: {"status": "probationary", "branch": str(_branch(w).id), "joined_on": "2020-07-01"},
    ),
    ("portal", "party.remove_membership", "POST"): Cell(
        "POST", lambda w: f"/party/veterans/{w.veteran.id}/membership/remove", MANAGERS_OF_X
    ),
    ("portal", "party.record_transfer", "POST"): Cell(
        "POST",
        lambda w: f"/party/veterans/{w.veteran.id}/transfers",
        MANAGERS_OF_X,
        data={"direction": "out", "counterpart": "外省某党支部", "started_on": "2024-05-01"},
    ),
    ("portal", "party.complete_transfer", "POST"): Cell(
        "POST",
        lambda w: f"/party/transfers/{_transfer(w).id}/complete",
        MANAGERS_OF_X,
        data={"completed_on": "2024-06-01"},
    ),
    ("portal", "party.cancel_transfer", "POST"): Cell(
        "POST", lambda w: f"/party/transfers/{_transfer(w).id}/cancel", MANAGERS_OF_X
    ),
    ("portal", "party.record_evaluation", "POST"): Cell(
        "POST",
        lambda w: f"/party/veterans/{w.veteran.id}/evaluations",
        MANAGERS_OF_X,
        data={
            "year": "2022",
            "life": "good",
            "dues": "good",
            "conduct": "good",
            "overall": "excellent",
            "opinion": "好",
        },
        notes="not a member yet: a flash message (past authorization)",
    ),
    ("portal", "party.evaluation_document", "GET"): Cell(
        "GET", lambda w: f"/party/evaluations/{_evaluation(w).id}/document", VIEWERS_OF_X, notes="audited download"
    ),
}
