"""notifications slice (issue 13): the report and the call list over deliveries made by the real pipeline
(backend.notifications.delivery.run_inline against the fake WeChat), not set by hand."""

from datetime import timedelta

from backend.db import transaction, utcnow
from backend.extensions import db
from backend.inbox.service import mark_read
from backend.notifications import calls, reports
from backend.notifications.models import Notification
from tests.authz.notify_reports_cells import set_inbox
from tests.factories import create_veteran
from tests.notifications.helpers import bind, deliver, deliveries, grant, push_sent_events, staff_notification


def test_report_and_call_list_follow_a_real_delivery(world, fake_wechat, portal_app):
    granted, bound_only, unbound = (create_veteran(station=world.x1) for _ in range(3))
    grant(fake_wechat, bind(granted))
    bind(bound_only)
    notification_id = staff_notification(world, [granted, bound_only, unbound])
    with transaction():  # as compose.save_draft sets it for care notifications
        db.session.execute(db.update(Notification).where(Notification.id == notification_id).values(follow_up=True))
    deliver(notification_id)
    push_sent_events(fake_wechat)
    notification = db.session.get(Notification, notification_id, populate_existing=True)
    rows = {d.veteran_id: d for d in deliveries(notification_id)}
    assert rows[granted.id].status == "sent" and rows[unbound.id].skip_reason == "not_bound"

    report = reports.summary(notification)
    counts = {k: c for k, _, c in report["statuses"]}
    assert report["total"] == 3 and counts["sent"] == 1 and counts["skipped"] == 2
    assert {k: c for k, _, c in report["skips"]} == {"no_credit": 1, "not_bound": 1}
    assert {k: c for k, _, c in report["results"]}["success"] == 1
    assert report["read"] == 0 and report["read_rate"] == 0.0

    # the granted veteran reads on the phone; the others stay unread past the configured days
    inbox_id = db.session.scalar(
        db.select(reports.InboxMessage.id).where(
            reports.InboxMessage.notification_id == notification_id, reports.InboxMessage.veteran_id == granted.id
        )
    )
    mark_read(veteran_id=granted.id, message_id=inbox_id)
    assert reports.summary(notification)["read_rate"] == 33.3
    later = utcnow() + timedelta(days=portal_app.config["NOTIFY_CALL_AFTER_DAYS"], hours=1)
    for v in (bound_only, unbound):
        set_inbox(notification, v, created_at=utcnow())
    assert notification.status == "done"
    assert calls.build(now=later) == {"unbound": 1, "unread": 1, "closed": 0}
    open_ids = {r.veteran.id for r in calls.list_open(actor=world.staff_x)[0]}
    assert bound_only.id in open_ids and granted.id not in open_ids
