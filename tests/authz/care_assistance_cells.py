"""care slice (issue 16, C3): the authorization matrix's cells for hardship assistance. A case of veteran A (station
X1) is made on first use, with one proof file: out of staff_y's scope and veteran B's reach (404). The list is
care.view (scoped, so staff_y sees an empty list); health details, steps and downloads need assistance.review or
assistance.approve with X1 in scope: only staff_x."""

import io

from tests.authz.cells import VETERANS, Cell

CARE_VIEWERS = ("staff_x", "staff_y", "supervisor_parent")  # care.view: the list answers within each scope
VIEWERS_OF_X = ("staff_x", "supervisor_parent")  # care.view with X1 in the subtree
REVIEWERS = ("staff_x", "staff_y")  # assistance.review
HANDLERS_OF_X = ("staff_x",)  # assistance.review / assistance.approve with X1 in the subtree


def _account(w):
    from sqlalchemy import select

    from backend.accounts.models import WechatAccount
    from backend.extensions import db

    account = db.session.scalars(select(WechatAccount).where(WechatAccount.veteran_id == w.veteran.id)).first()
    if account is None:  # the axe sweep's world has no phone accounts
        from tests.registration.helpers import account_for

        account = account_for(w.veteran)
    return account


def _case(w):
    if "assistance_case" not in w.objects:
        from backend.assistance import attachments, service
        from tests.files import samples

        account = _account(w)
        case = service.submit_case(
            account=account, category="serious_illness", description="矩阵", requested_amount_fen=100
        )
        w.objects["assistance_case"] = case
        w.objects["assistance_proof"] = attachments.add_attachment(
            account=account, case_id=case.id, filename="证明.png", data=samples.png()
        )
    return w.objects["assistance_case"]


def _pending_page(w):
    """The to-do list with a case of X1 in every status a step waits on, so every step's form is on offer."""
    from tests.assistance.helpers import move_to, new_case

    for status in ("under_review", "recommended", "approved", "paid"):
        move_to(w, new_case(w, _account(w)), status)
    _case(w)
    return "/assistance/pending"


def _url(suffix=""):
    return lambda w: f"/assistance/{_case(w).id}{suffix}"


CARE_ASSISTANCE_CELLS = {
    ("portal", "assistance.index", "GET"): Cell("GET", lambda w: f"/assistance/?station={w.x1.id}", CARE_VIEWERS),
    ("portal", "assistance.pending", "GET"): Cell(
        "GET", _pending_page, REVIEWERS, notes="a case in every open status: every step's form (staff_y: empty)"
    ),
    ("portal", "assistance.new", "GET"): Cell("GET", lambda w: f"/assistance/new?veteran={w.veteran.id}", REVIEWERS),
    ("portal", "assistance.new", "POST"): Cell(
        "POST",
        "/assistance/new",
        HANDLERS_OF_X,
        data=lambda w: {"veteran": str(w.veteran.id), "category": "other", "description": "矩阵", "amount": "10"},
        notes="staff_y: veteran A is out of scope (404)",
    ),
    ("portal", "assistance.detail", "GET"): Cell("GET", _url(), VIEWERS_OF_X, notes="the supervisor: details hidden"),
    ("portal", "assistance.start_review", "POST"): Cell("POST", _url("/review"), HANDLERS_OF_X),
    ("portal", "assistance.recommend", "POST"): Cell(
        "POST", _url("/recommend"), HANDLERS_OF_X, data={"amount": "1"}, notes="not under review: a flash message"
    ),
    ("portal", "assistance.reject", "POST"): Cell("POST", _url("/reject"), HANDLERS_OF_X, data={"reason": "矩阵"}),
    ("portal", "assistance.approve", "POST"): Cell(
        "POST", _url("/approve"), HANDLERS_OF_X, notes="not recommended: a flash message (past authorization)"
    ),
    ("portal", "assistance.pay", "POST"): Cell(
        "POST",
        _url("/pay"),
        HANDLERS_OF_X,
        data={"amount": "1", "paid_on": "2020-01-01", "payment_reference": "R", "funding_source": "local"},
        notes="not approved: a flash message",
    ),
    ("portal", "assistance.close", "POST"): Cell(
        "POST", _url("/close"), HANDLERS_OF_X, data={"follow_up": "矩阵"}, notes="not paid: a flash message"
    ),
    ("portal", "assistance.download_attachment", "GET"): Cell(
        "GET",
        lambda w: f"/assistance/{_case(w).id}/attachments/{w.objects['assistance_proof'].id}",
        HANDLERS_OF_X,
        notes="the supervisor has care.view but handles no case: 403",
    ),
    ("api", "assistance.list_cases", "GET"): Cell("GET", "/v1/assistance", VETERANS),
    ("api", "assistance.submit_case", "POST"): Cell(
        "POST", "/v1/assistance", VETERANS, data={"category": "accident", "description": "矩阵"}
    ),
    ("api", "assistance.get_case", "GET"): Cell(
        "GET", lambda w: f"/v1/assistance/{_case(w).id}", ("veteran_a",), notes="B: another veteran's case"
    ),
    ("api", "assistance.upload_attachment", "POST"): Cell(
        "POST",
        lambda w: f"/v1/assistance/{_case(w).id}/attachments",
        ("veteran_a",),
        multipart=True,
        data=lambda w: {"file": (io.BytesIO(_png()), "a.png")},
    ),
}


def _png():
    from tests.files import samples

    return samples.png()
