"""notifications slice (issue 13): the authorization matrix's cells for the reports, the call list and veteran tags,
and the small builders they (and tests/notifications/test_reports*.py, test_calls*.py) use: a notification with its
deliveries written by backend.notifications.events.notify, then statuses set directly."""

from sqlalchemy import update

from backend.db import transaction
from backend.extensions import db
from backend.inbox.models import InboxMessage
from backend.notifications.events import notify
from backend.notifications.models import CallTask, Delivery
from tests.authz.cells import Cell

NOTIFICATION_VIEWERS_OF_X = ("staff_x", "supervisor_parent")  # notifications.view, sender unit X in their subtree
CALLERS = ("staff_x", "staff_y")  # notifications.calls: each sees the list of their own county


def make_notification(veterans, *, sender_unit, kind="care", title="重阳节慰问", status="done", follow_up=True, **kw):
    """A notification to `veterans` (queued deliveries and unread inbox entries), then given `status` etc."""
    with transaction():
        ids = [v.id for v in veterans]
        notification = notify(kind, ids, title=title, body="节日快乐", sender_unit_id=sender_unit.id)
        notification.status, notification.follow_up = status, follow_up
        for name, value in kw.items():
            setattr(notification, name, value)
    return notification


def set_delivery(notification, veteran, **values):
    """Set columns of the (notification, veteran) delivery directly, as the pipeline would have."""
    with transaction():
        db.session.execute(
            update(Delivery)
            .where(Delivery.notification_id == notification.id, Delivery.veteran_id == veteran.id)
            .values(**values)
        )


def set_inbox(notification, veteran, **values):
    """Set columns (read_at, created_at) of the veteran's inbox entry of the notification."""
    with transaction():
        db.session.execute(
            update(InboxMessage)
            .where(InboxMessage.notification_id == notification.id, InboxMessage.veteran_id == veteran.id)
            .values(**values)
        )


def open_call_task(w):
    """An open call task for veteran A (station X1) of a notification sent by county X; returns it."""
    from sqlalchemy import select

    veteran = w.veteran
    notification = make_notification([veteran], sender_unit=w.x)
    set_delivery(notification, veteran, status="skipped", skip_reason="not_bound")
    with transaction():
        delivery_id = db.session.scalar(select(Delivery.id).where(Delivery.notification_id == notification.id))
        task = CallTask(
            veteran_id=veteran.id,
            station_id=veteran.station_id,
            notification_id=notification.id,
            delivery_id=delivery_id,
            reason="unbound",
        )
        db.session.add(task)
    return task


def _calls_page(w):
    """The call list with one open task at X1 on it (so the page offers its forms)."""
    open_call_task(w)
    return "/notifications/calls"


def _notification_of_x(w):
    return make_notification([w.veteran], sender_unit=w.x)


NOTIFY_REPORTS_CELLS = {
    ("portal", "notifications.recipients", "GET"): Cell(
        "GET",
        lambda w: f"/notifications/{_notification_of_x(w).id}/recipients",
        NOTIFICATION_VIEWERS_OF_X,
        notes="sender unit X: another county's staff get the not-found answer",
    ),
    ("portal", "notifications.calls", "GET"): Cell("GET", _calls_page, CALLERS, notes="one's own scope"),
    ("portal", "notifications.call_outcome", "POST"): Cell(
        "POST",
        lambda w: f"/notifications/calls/{open_call_task(w).id}/outcome",
        ("staff_x",),
        data={"outcome": "reached", "note": "已电话告知"},
        notes="the task's veteran is at X1",
    ),
    ("portal", "notifications.call_reveal", "POST"): Cell(
        "POST", lambda w: f"/notifications/calls/{open_call_task(w).id}/reveal", ("staff_x",)
    ),
    ("portal", "veterans.set_tags", "POST"): Cell(
        "POST", lambda w: f"/veterans/{w.veteran.id}/tags", ("staff_x",), data={"tags": "重点关注，高龄"}
    ),
}
