"""System events on the delivery path: one notification, a queued delivery and an inbox entry per veteran.

Every capability that tells veterans something calls `notify` (or the inbox's post_message / post_messages, which
call it): the inbox entries are written in the caller's transaction, so the veteran sees the message as soon as the
event commits; the WeChat part runs after the commit (backend/notifications/delivery.py).
"""

from sqlalchemy import insert, literal, select

from backend.bulk import id_rows
from backend.db import transaction, utcnow
from backend.extensions import db
from backend.inbox.models import InboxMessage
from backend.notifications import dispatch
from backend.notifications.kinds import FOLLOW_UP_KINDS, requires_ack, template_key
from backend.notifications.models import Delivery, MessageTemplate, MessageTemplateVersion, Notification


def current_version(key):
    """The template version in force for template key `key`, or None."""
    if key is None:
        return None
    return db.session.scalars(
        select(MessageTemplateVersion)
        .join(MessageTemplate, MessageTemplate.current_version_id == MessageTemplateVersion.id)
        .where(MessageTemplate.key == key)
    ).first()


def notify(kind, veteran_ids, *, title, body, link=None, values=None, sender_unit_id=None):
    """Tell `veteran_ids` about an event (joins the caller's transaction). Returns the Notification, or None.

    `values` fill the WeChat card's variables beyond 标题, 单位 and 日期 (结果, 约谈日期, 截止日期 …); they must never
    hold an ID number, a phone number or a whereabouts.
    """
    veteran_ids = sorted({int(v) for v in veteran_ids})
    if not veteran_ids:
        return None
    version = current_version(template_key(kind))
    now = utcnow()
    with transaction():
        notification = Notification(
            kind=kind,
            source="system",
            template_version_id=version.id if version else None,
            title=title[:100],
            body=body,
            link=link,
            variables=dict(values or {}),
            sender_unit_id=sender_unit_id,
            status="sending",
            materialized=True,
            recipient_count=len(veteran_ids),
            follow_up=kind in FOLLOW_UP_KINDS,
            started_at=now,
        )
        db.session.add(notification)
        db.session.flush()
        write_rows(notification, veteran_ids, now=now)
        dispatch.start_after_commit(notification.id)
    return notification


def write_rows(notification, veteran_ids, *, now=None):
    """The queued deliveries and the inbox entries (text as given) of `veteran_ids`, one statement each."""
    now = now or utcnow()
    rows = id_rows(veteran_ids, name="veteran_id")
    deliveries = Delivery.__table__
    db.session.execute(
        insert(deliveries).from_select(
            ["notification_id", "veteran_id", "status", "attempts", "created_at", "updated_at"],
            select(
                literal(notification.id),
                rows.c.veteran_id,
                literal("queued"),
                literal(0),
                literal(now, deliveries.c.created_at.type),
                literal(now, deliveries.c.updated_at.type),
            ),
        )
    )
    inbox = InboxMessage.__table__
    db.session.execute(
        insert(inbox).from_select(
            ["veteran_id", "kind", "title", "body", "link", "created_at", "notification_id", "requires_ack"],
            select(
                rows.c.veteran_id,
                literal(notification.kind),
                literal(notification.title),
                literal(notification.body),
                literal(notification.link, inbox.c.link.type),
                literal(now, inbox.c.created_at.type),
                literal(notification.id),
                literal(requires_ack(notification.kind), inbox.c.requires_ack.type),
            ),
        )
    )
