"""Authorization matrix cells of the education pages and the phone's acknowledgement (issue 19). Campaigns and the
session belong to station X1 (out of staff_y's scope: 404). education.view: station staff, center reviewers, the
supervisor; education.send: center reviewers; education.attendance: station staff and center reviewers."""

from tests.authz.cells import Cell

VIEWERS = ("staff_x", "staff_y", "supervisor_parent")  # lists answer within each one's own scope
VIEWERS_OF_X = ("staff_x", "supervisor_parent")
SENDERS = ("staff_x", "staff_y")
SENDERS_OF_X = ("staff_x",)


def _draft(w):
    from tests.education.helpers import draft

    return draft(w)


def _sent(w):
    from tests.education.helpers import sent

    return sent(w)


def _session(w):
    from tests.education.helpers import session

    return session(w)


def _ack_message(w):
    from tests.education.helpers import ack_message_a

    return ack_message_a(w)


def _campaign_form(w):
    return {
        "kind": "political",
        "title": "矩阵教育提醒",
        "content": "内容",
        "due_on": "2099-01-01",
        "unit": str(w.x1.id),
        "links": "材料|/materials/1",
    }


EDUCATION_CELLS = {
    ("portal", "education.index", "GET"): Cell(
        "GET", lambda w: _sent(w) and "/education/", VIEWERS, notes="a sent campaign to chase from the list"
    ),
    ("portal", "education.new", "GET"): Cell("GET", "/education/new", SENDERS),
    ("portal", "education.create", "POST"): Cell(
        "POST", "/education/new", SENDERS_OF_X, data=_campaign_form, notes="unit X1: out of Y's scope (404)"
    ),
    ("portal", "education.campaign", "GET"): Cell(
        "GET", lambda w: f"/education/campaigns/{_draft(w).id}", VIEWERS_OF_X, notes="a draft: the send form"
    ),
    ("portal", "education.send", "POST"): Cell(
        "POST", lambda w: f"/education/campaigns/{_draft(w).id}/send", SENDERS_OF_X
    ),
    ("portal", "education.chase", "POST"): Cell(
        "POST", lambda w: f"/education/campaigns/{_sent(w).id}/chase", SENDERS_OF_X
    ),
    ("portal", "education.session_list", "GET"): Cell("GET", "/education/sessions", VIEWERS),
    ("portal", "education.create_session", "POST"): Cell(
        "POST",
        "/education/sessions",
        ("staff_x",),
        data=lambda w: {
            "unit": str(w.x1.id),
            "kind": "political",
            "title": "矩阵学习",
            "held_on": "2024-05-01",
            "place": "服务站",
        },  # fmt: skip
    ),
    ("portal", "education.session", "GET"): Cell(
        "GET", lambda w: f"/education/sessions/{_session(w).id}?q={w.veteran.name[:1]}", VIEWERS_OF_X
    ),
    ("portal", "education.record_attendance", "POST"): Cell(
        "POST",
        lambda w: f"/education/sessions/{_session(w).id}/attendance",
        ("staff_x",),
        data=lambda w: {"veteran": str(w.veteran.id), "attended": "1"},
    ),
    ("api", "inbox.acknowledge", "POST"): Cell(
        "POST", lambda w: f"/v1/inbox/{_ack_message(w).id}/acknowledge", ("veteran_a",), data={}
    ),
}
