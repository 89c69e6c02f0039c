"""Running the delivery pipeline in tests, and the WeChat side of a recipient (binding, credits, events)."""

from sqlalchemy import select

from backend.db import transaction, utcnow
from backend.extensions import db
from backend.notifications.models import Delivery, Notification
from tests.factories import unique


def deliver(notification_id):
    """Run notification `notification_id` through the whole pipeline now (fan-out, inbox, sends)."""
    from backend.notifications.delivery import run_inline

    return run_inline(notification_id)


def bind(veteran, openid=None):
    """A WeChat account bound to `veteran`; returns its openid."""
    from backend.accounts.models import WechatAccount

    openid = openid or unique("o-n")
    with transaction():
        db.session.add(WechatAccount(openid=openid, veteran_id=veteran.id, bound_at=utcnow()))
    return openid


def grant(fake, openid, template_id="TPL_CARE", count=1):
    """`count` credits in our ledger and at the fake WeChat, as a real accept would give both."""
    from backend.subscriptions.models import SubscriptionCredit

    with transaction():
        row = db.session.scalars(
            select(SubscriptionCredit).where(
                SubscriptionCredit.openid == openid, SubscriptionCredit.template_id == template_id
            )
        ).first()
        if row is None:
            row = SubscriptionCredit(openid=openid, template_id=template_id, credits=0)
            db.session.add(row)
        row.credits += count
        row.refused = False
    with fake.lock:
        fake.credits[(openid, template_id)] = fake.credits.get((openid, template_id), 0) + count


def credits(openid, template_id="TPL_CARE"):
    from backend.subscriptions.models import SubscriptionCredit

    return db.session.scalar(
        select(SubscriptionCredit.credits)
        .where(SubscriptionCredit.openid == openid, SubscriptionCredit.template_id == template_id)
        .execution_options(populate_existing=True)
    )


def care(veterans, *, title="节日问候", body="{姓名}同志：{服务站}祝您节日快乐。", values=None):
    """A care message to `veterans` through the system path (events.notify). Returns the notification id."""
    from backend.notifications.events import notify

    return notify("care", [v.id for v in veterans], title=title, body=body, values=values).id


def deliveries(notification_id):
    return db.session.scalars(
        select(Delivery)
        .where(Delivery.notification_id == notification_id)
        .order_by(Delivery.id)
        .execution_options(populate_existing=True)
    ).all()


def notification(notification_id):
    return db.session.scalars(
        select(Notification).where(Notification.id == notification_id).execution_options(populate_existing=True)
    ).one()


def push_sent_events(fake):
    """Hand the fake's pending subscribe_msg_sent_event pushes to the service, as WeChat's push would."""
    from backend.subscriptions.service import handle_event

    events = fake.drain_events()
    for event in events:
        handle_event(event)
    return len(events)


def staff_notification(world, veterans, *, title="重阳节问候", body="{姓名}同志：{单位}祝您重阳节安康。{服务站}"):
    """A staff care notification from county X to hand-picked `veterans`, started (status sending)."""
    from backend.notifications.events import current_version
    from backend.notifications.models import NotificationPick

    with transaction():
        n = Notification(
            kind="care",
            source="staff",
            template_version_id=current_version("care").id,
            title=title,
            body=body,
            sender_unit_id=world.x.id,
            created_by_id=world.staff_x.id,
            status="sending",
            started_at=utcnow(),
        )
        db.session.add(n)
        db.session.flush()
        db.session.add_all(NotificationPick(notification_id=n.id, veteran_id=v.id) for v in veterans)
    return n.id
