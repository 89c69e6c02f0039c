"""Authorization matrix cells of the feedback pages and phone routes, and of the auditor's conduct views (issue 20).

Veteran A (station X1) rates contacts by a station worker of X1 badly, so cases are handled by county X (a contact by
staff_x, a county X reviewer, would go to the city and be hidden from staff_x): in staff_x's and the city
supervisor's scope, out of staff_y's (404). The list is feedback.view (scoped: staff_y sees an empty list); the
steps and attachment downloads need feedback.handle with X in scope: only staff_x. Objects are made on first use."""

import io

from tests.authz.cells import VETERANS, Cell

VIEWERS = ("staff_x", "staff_y", "supervisor_parent")  # feedback.view: the list answers within each scope
VIEWERS_OF_X = ("staff_x", "supervisor_parent")
HANDLERS_OF_X = ("staff_x",)


def _account(w):
    from sqlalchemy import select

    from backend.accounts.models import WechatAccount
    from backend.extensions import db

    account = db.session.scalars(select(WechatAccount).where(WechatAccount.veteran_id == w.veteran.id)).first()
    if account is None:  # the axe sweep's world has no phone accounts
        from tests.registration.helpers import account_for

        account = account_for(w.veteran)
    return account


def _contact(w):
    from backend.extensions import db
    from backend.orgs.models import OrgUnit
    from tests.factories import create_staff
    from tests.feedback.helpers import contact

    if "feedback_server" not in w.objects:  # who served: a station worker of the veteran's station
        station = db.session.get(OrgUnit, w.veteran.station_id)
        w.objects["feedback_server"] = create_staff(unit=station, roles=("station_staff",))
    return contact(w.veteran, w.objects["feedback_server"])


def _bad_case(w):
    from backend.feedback import ratings

    _, case = ratings.rate(account=_account(w), subject="contact", subject_id=_contact(w).id, score=1, comment="矩阵")
    return case


def _case(w):
    """A case waiting for its outcome (contacted): the detail page offers the resolve step."""
    if "feedback_case" not in w.objects:
        from backend.feedback import handling

        case = _bad_case(w)
        handling.record_contact(actor=w.staff_x, case_id=case.id, note="矩阵")
        w.objects["feedback_case"] = case
    return w.objects["feedback_case"]


def _index(w):
    """The list with a case waiting for its revisit, so the list's revisit form is on offer."""
    if "feedback_resolved" not in w.objects:
        from backend.feedback import handling

        case = _bad_case(w)
        handling.record_contact(actor=w.staff_x, case_id=case.id, note="矩阵")
        handling.resolve(actor=w.staff_x, case_id=case.id, outcome="矩阵")
        w.objects["feedback_resolved"] = case
    return "/feedback/"


def _attachment(w):
    if "feedback_attachment" not in w.objects:
        from backend.feedback import complaints
        from tests.files import samples

        complaint, case = complaints.submit(account=_account(w), kind="suggestion", text="矩阵")
        attachment = complaints.add_attachment(
            account=_account(w), complaint_id=complaint.id, filename="a.png", data=samples.png()
        )
        w.objects["feedback_attachment"] = (complaint, case, attachment)
    return w.objects["feedback_attachment"]


def _url(suffix=""):
    return lambda w: f"/feedback/{_case(w).id}{suffix}"


def _png():
    from tests.files import samples

    return samples.png()


FEEDBACK_CELLS = {
    ("portal", "feedback.index", "GET"): Cell("GET", _index, VIEWERS, notes="scoped: staff_y sees an empty list"),
    ("portal", "feedback.detail", "GET"): Cell("GET", _url(), VIEWERS_OF_X, notes="the supervisor: texts hidden"),
    ("portal", "feedback.assign", "POST"): Cell("POST", _url("/assign"), HANDLERS_OF_X, data={"assignee": "me"}),
    ("portal", "feedback.contact", "POST"): Cell("POST", _url("/contact"), HANDLERS_OF_X, data={"note": "矩阵"}),
    ("portal", "feedback.resolve", "POST"): Cell("POST", _url("/resolve"), HANDLERS_OF_X, data={"outcome": "矩阵"}),
    ("portal", "feedback.revisit", "POST"): Cell(
        "POST", _url("/revisit"), HANDLERS_OF_X, data={"result": "satisfied"}, notes="not resolved: a flash message"
    ),
    ("portal", "feedback.download_attachment", "GET"): Cell(
        "GET",
        lambda w: f"/feedback/{_attachment(w)[1].id}/attachments/{_attachment(w)[2].id}",
        HANDLERS_OF_X,
        notes="the supervisor has feedback.view but handles no case: 403",
    ),
    # the auditor's conduct views (admin_portal/audit/oversight.py)
    ("portal", "audit.staff_actions", "GET"): Cell("GET", lambda w: f"/audit/staff/{w.staff_x.id}", ("auditor",)),
    ("portal", "audit.volumes", "GET"): Cell("GET", "/audit/volumes", ("auditor",)),
    ("portal", "audit.refusals", "GET"): Cell("GET", "/audit/refusals", ("auditor",)),
    ("portal", "audit.conduct", "GET"): Cell("GET", "/audit/conduct", ("auditor",)),
    # the phone
    ("api", "feedback.list_pending", "GET"): Cell("GET", "/v1/feedback/pending", VETERANS),
    ("api", "feedback.rate", "POST"): Cell(
        "POST",
        "/v1/feedback",
        ("veteran_a",),
        data=lambda w: {"subject": "contact", "subject_id": _contact(w).id, "score": 5},
        notes="B: another veteran's contact (404)",
    ),
    ("api", "feedback.list_targets", "GET"): Cell("GET", "/v1/complaints/targets", VETERANS),
    ("api", "feedback.list_complaints", "GET"): Cell("GET", "/v1/complaints", VETERANS),
    ("api", "feedback.submit_complaint", "POST"): Cell(
        "POST", "/v1/complaints", VETERANS, data={"kind": "suggestion", "text": "矩阵"}, notes="about one's own station"
    ),
    ("api", "feedback.upload_attachment", "POST"): Cell(
        "POST",
        lambda w: f"/v1/complaints/{_attachment(w)[0].id}/attachments",
        ("veteran_a",),
        multipart=True,
        data=lambda w: {"file": (io.BytesIO(_png()), "a.png")},
        notes="B: another veteran's complaint",
    ),
}
