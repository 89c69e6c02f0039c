"""Authorization matrix cells of the honors pages and phone routes (issue 17). Made on first use: a celebration
organised by county X with veteran A invited, an award of veteran A, and a chronicle candidate of veteran A proposed
by the X1 clerk (w.target), so staff_x (honors.review, not the proposer) is offered the review forms. staff_y (county
Y) finds none of them (404); the supervisor reads (honors.view) and writes nothing; veteran B never sees A's
invitation."""

from tests.authz.cells import VETERANS, Cell

VIEWERS = ("staff_x", "staff_y", "supervisor_parent")  # honors.view: lists answer within each scope
VIEWERS_OF_X = ("staff_x", "supervisor_parent")
MANAGERS = ("staff_x", "staff_y")  # honors.manage
MANAGERS_OF_X = ("staff_x",)


def _ceremony(w):
    if "ceremony" not in w.objects:
        from datetime import timedelta

        from backend.db import transaction, utcnow
        from backend.extensions import db
        from backend.honors.models import Ceremony, Invitation

        with transaction():
            ceremony = Ceremony(
                unit_id=w.x.id,
                kind="celebration",
                level="local",
                title="八一建军节座谈会",
                held_at=utcnow() + timedelta(days=30),
                place="县服务中心",
                created_by_id=w.staff_x.id,
            )
            db.session.add(ceremony)
            db.session.flush()
            invitation = Invitation(ceremony_id=ceremony.id, veteran_id=w.veteran.id, status="invited")
            db.session.add(invitation)
        w.objects.update(ceremony=ceremony, invitation=invitation)
    return w.objects["ceremony"]


def _invitation(w):
    _ceremony(w)
    return w.objects["invitation"]


def _entry(w):
    if "chronicle_entry" not in w.objects:
        from backend.honors import chronicle

        w.objects["chronicle_entry"] = chronicle.propose(actor=w.target, veteran_id=w.veteran.id, reason="矩阵")
    return w.objects["chronicle_entry"]


def _award(w):
    if "award" not in w.objects:
        from backend.honors import awards

        w.objects["award"] = awards.create_award(
            actor=w.staff_x,
            veteran_id=w.veteran.id,
            values={
                "title": "三等功",
                "level": "national",
                "awarded_on": "2020-08-01",
                "deed": "矩阵",
                "approving_body": "某部",
            },
        )
    return w.objects["award"]


def _awards_page(w):
    _award(w)
    return "/honors/awards"


def _future():
    from datetime import timedelta

    from backend.registration.windows import today_cst

    return (today_cst() + timedelta(days=20)).isoformat() + "T09:30"


HONORS_CELLS = {
    ("portal", "honors.index", "GET"): Cell("GET", "/honors/", VIEWERS, notes="redirects to the ceremonies"),
    ("portal", "honors.ceremonies", "GET"): Cell(
        "GET", lambda w: _ceremony(w) and "/honors/ceremonies", VIEWERS, notes="staff_y: an empty list"
    ),
    ("portal", "honors.ceremony_new", "GET"): Cell("GET", "/honors/ceremonies/new", MANAGERS),
    ("portal", "honors.ceremony_new", "POST"): Cell(
        "POST",
        "/honors/ceremonies/new",
        MANAGERS_OF_X,
        data=lambda w: {
            "unit_id": str(w.x.id),
            "level": "local",
            "title": "国庆座谈会",
            "held_at": _future(),
            "place": "县服务中心",
        },
        notes="staff_y: county X is outside the scope (404)",
    ),
    ("portal", "honors.ceremony", "GET"): Cell("GET", lambda w: f"/honors/ceremonies/{_ceremony(w).id}", VIEWERS_OF_X),
    ("portal", "honors.invite", "GET"): Cell(
        "GET", lambda w: f"/honors/ceremonies/{_ceremony(w).id}/invite", MANAGERS_OF_X
    ),
    ("portal", "honors.invite_search", "POST"): Cell(
        "POST",
        lambda w: f"/honors/ceremonies/{_ceremony(w).id}/invite/search",
        MANAGERS_OF_X,
        data=lambda w: {"q": w.veteran.name[:1]},
    ),
    ("portal", "honors.invite", "POST"): Cell(
        "POST",
        lambda w: f"/honors/ceremonies/{_ceremony(w).id}/invite",
        MANAGERS_OF_X,
        data=lambda w: {"unit_id": str(w.x1.id)},
    ),
    ("portal", "honors.record_reply", "POST"): Cell(
        "POST",
        lambda w: f"/honors/invitations/{_invitation(w).id}/reply",
        MANAGERS_OF_X,
        data={"attending": "1", "guests": "1"},
    ),
    ("portal", "honors.awards_list", "GET"): Cell("GET", _awards_page, VIEWERS),
    ("portal", "honors.award_new", "GET"): Cell(
        "GET", lambda w: f"/honors/awards/new?veteran={w.veteran.id}", MANAGERS_OF_X, notes="staff_y: A not in scope"
    ),
    ("portal", "honors.award_new", "POST"): Cell(
        "POST",
        "/honors/awards/new",
        MANAGERS_OF_X,
        data=lambda w: {
            "veteran": str(w.veteran.id),
            "title": "优秀共产党员",
            "level": "county",
            "awarded_on": "2021-07-01",
            "deed": "矩阵",
            "approving_body": "县委",
        },
    ),
    ("portal", "honors.award_search", "POST"): Cell(
        "POST", "/honors/awards/new/search", MANAGERS, data=lambda w: {"q": w.veteran.name[:1]}, notes="staff_y: none"
    ),
    ("portal", "honors.chronicle_list", "GET"): Cell("GET", lambda w: _entry(w) and "/honors/chronicle", VIEWERS),
    ("portal", "honors.chronicle_new", "GET"): Cell(
        "GET", lambda w: f"/honors/chronicle/new?veteran={w.veteran.id}", MANAGERS_OF_X
    ),
    ("portal", "honors.chronicle_new", "POST"): Cell(
        "POST",
        "/honors/chronicle/new",
        MANAGERS_OF_X,
        data=lambda w: {"veteran": str(w.veteran.id), "reason": "矩阵"},
    ),
    ("portal", "honors.chronicle_detail", "GET"): Cell(
        "GET", lambda w: f"/honors/chronicle/{_entry(w).id}", VIEWERS_OF_X, notes="staff_x: the review forms"
    ),
    ("portal", "honors.chronicle_accept", "POST"): Cell(
        "POST",
        lambda w: f"/honors/chronicle/{_entry(w).id}/accept",
        MANAGERS_OF_X,
        data=lambda w: {"version": str(_entry(w).version_id), "entry_text": "矩阵", "volume": "县志"},
    ),
    ("portal", "honors.chronicle_reject", "POST"): Cell(
        "POST",
        lambda w: f"/honors/chronicle/{_entry(w).id}/reject",
        MANAGERS_OF_X,
        data=lambda w: {"version": str(_entry(w).version_id), "note": "矩阵"},
    ),
    ("api", "honors.list_invitations", "GET"): Cell("GET", "/v1/invitations", VETERANS),
    ("api", "honors.get_invitation", "GET"): Cell(
        "GET", lambda w: f"/v1/invitations/{_invitation(w).id}", ("veteran_a",), notes="B: another's invitation"
    ),
    ("api", "honors.rsvp", "POST"): Cell(
        "POST",
        lambda w: f"/v1/invitations/{_invitation(w).id}/rsvp",
        ("veteran_a",),
        data={"attending": True, "guests": 1},
    ),
}
