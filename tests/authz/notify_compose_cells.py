"""notifications slice (issue 13): the authorization matrix's cells for compose and send. The objects are care
notifications of county X (sender unit X): a draft by staff_x, and one pending approval written by another person."""

from backend.db import transaction
from backend.extensions import db
from backend.notifications import compose
from backend.notifications.models import Notification
from tests.authz.cells import Cell

VIEWERS_OF_X = ("staff_x", "supervisor_parent")  # notifications.view with sender unit X in their subtree
SENDERS = ("staff_x", "staff_y")  # notifications.send (each within their own county)


def draft_of_x(w):
    """A draft by staff_x to station X1 (veteran A)."""
    notification, _ = compose.save_draft(
        actor=w.staff_x, title="矩阵通知", body="{姓名}您好", audience={"unit_id": w.x1.id}
    )
    return notification


def pending_of_x(w):
    """A notification of county X waiting for approval, written by someone other than staff_x."""
    with transaction():
        notification = Notification(
            kind="care",
            source="staff",
            title="待审批通知",
            body="您好",
            sender_unit_id=w.x.id,
            created_by_id=w.target.id,
            audience={"unit_id": w.x1.id},
            status="pending_approval",
            approval_needed=True,
            recipient_count=1,
        )
        db.session.add(notification)
    return notification


def _compose_form(w):
    return {"title": "矩阵通知", "body": "您好", "use_filter": "1", "unit": str(w.x1.id)}


NOTIFY_COMPOSE_CELLS = {
    ("portal", "notifications.index", "GET"): Cell(
        "GET", "/notifications/", ("staff_x", "staff_y", "supervisor_parent"), notes="a list of one's own scope"
    ),
    ("portal", "notifications.create", "GET"): Cell("GET", "/notifications/new", SENDERS),
    ("portal", "notifications.create", "POST"): Cell(
        "POST", "/notifications/new", ("staff_x",), data=_compose_form, notes="unit X1: out of Y's scope (404)"
    ),
    ("portal", "notifications.pick_search", "GET"): Cell(
        "GET", "/notifications/pick-search?q=老兵", SENDERS, notes="results within one's own scope"
    ),
    ("portal", "notifications.detail", "GET"): Cell(
        "GET",
        lambda w: f"/notifications/{pending_of_x(w).id}",
        VIEWERS_OF_X,
        notes="pending approval, so the page offers approve, reject and cancel",
    ),
    ("portal", "notifications.edit", "GET"): Cell(
        "GET", lambda w: f"/notifications/{draft_of_x(w).id}/edit", ("staff_x",)
    ),
    ("portal", "notifications.edit", "POST"): Cell(
        "POST", lambda w: f"/notifications/{draft_of_x(w).id}/edit", ("staff_x",), data=_compose_form
    ),
    ("portal", "notifications.preview", "GET"): Cell(
        "GET", lambda w: f"/notifications/{draft_of_x(w).id}/preview", ("staff_x",)
    ),
    ("portal", "notifications.submit", "POST"): Cell(
        "POST", lambda w: f"/notifications/{draft_of_x(w).id}/submit", ("staff_x",), data={"when": "now"}
    ),
    ("portal", "notifications.cancel", "POST"): Cell(
        "POST", lambda w: f"/notifications/{draft_of_x(w).id}/cancel", ("staff_x",)
    ),
    ("portal", "notifications.approve", "POST"): Cell(
        "POST", lambda w: f"/notifications/{pending_of_x(w).id}/approve", ("staff_x",)
    ),
    ("portal", "notifications.reject", "POST"): Cell(
        "POST", lambda w: f"/notifications/{pending_of_x(w).id}/reject", ("staff_x",), data={"reason": "范围过大"}
    ),
}
