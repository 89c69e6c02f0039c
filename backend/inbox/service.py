"""Writing and reading the inbox. Every capability posts here; the veteran reads on the phone."""

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import func, select, update

from backend import denials
from backend.db import transaction, utcnow
from backend.errors import NotFound, RuleViolation
from backend.extensions import db
from backend.inbox.models import InboxMessage
from backend.notifications.events import notify
from backend.notifications.kinds import KIND_LABELS
from backend.notifications.models import Notification
from backend.orgs.models import OrgUnit

DEFAULT_KIND_LABEL = "系统通知"


class MessageNotFound(NotFound):
    code = "inbox.not_found"
    message = "未找到该消息"


class AckNotRequired(RuleViolation):
    code = "inbox.ack_not_required"
    message = "该消息无需确认知悉"


def post_message(*, veteran_id, kind, title, body, link=None, values=None, sender_unit_id=None):
    """Tell one veteran (joins the caller's transaction): a notification on the delivery path, so the message reaches
    the inbox now and WeChat where the veteran granted it. Returns the InboxMessage."""
    notification = notify(
        kind, [veteran_id], title=title, body=body, link=link, values=values, sender_unit_id=sender_unit_id
    )
    return db.session.scalars(
        select(InboxMessage).where(
            InboxMessage.notification_id == notification.id, InboxMessage.veteran_id == veteran_id
        )
    ).one()


def post_messages(rows, *, values=None):
    """Tell many veterans at once (joins the caller's transaction); returns how many.

    `rows` is an iterable of dicts with veteran_id, kind, title, body and optionally link. Rows with the same message
    become one notification (one delivery and one inbox entry per veteran, written by one INSERT … SELECT each), so a
    batch of reminders costs a few statements, not one per veteran.
    """
    messages = defaultdict(list)
    for row in rows:
        messages[(row["kind"], row["title"][:100], row["body"], row.get("link"))].append(row["veteran_id"])
    for (kind, title, body, link), veteran_ids in messages.items():
        notify(kind, veteran_ids, title=title, body=body, link=link, values=values)
    return sum(len(ids) for ids in messages.values())


@dataclass
class InboxEntry:
    """An inbox message as the phone shows it: with its sender unit (care messages) and its kind's label."""

    id: int
    kind: str
    kind_label: str
    title: str
    body: str
    link: str | None
    sender_unit: str | None
    created_at: object
    read_at: object
    requires_ack: bool = False  # issue 19: education reminders ask for 「我已阅读并知悉」
    acknowledged_at: object = None


def _entries(query):
    rows = db.session.execute(
        query.outerjoin(Notification, Notification.id == InboxMessage.notification_id).outerjoin(
            OrgUnit, OrgUnit.id == Notification.sender_unit_id
        )
    ).all()
    return [
        InboxEntry(
            m.id,
            m.kind,
            KIND_LABELS.get(m.kind, DEFAULT_KIND_LABEL),
            m.title,
            m.body,
            m.link,
            unit,
            m.created_at,
            m.read_at,
            bool(m.requires_ack),
            m.acknowledged_at,
        )
        for m, unit in rows
    ]


def list_inbox(*, veteran_id, cursor=None, limit=20):
    """Newest first, keyset by id. Returns (entries, next_cursor)."""
    query = select(InboxMessage, OrgUnit.name).where(InboxMessage.veteran_id == veteran_id)
    if cursor:
        query = query.where(InboxMessage.id < cursor)
    rows = _entries(query.order_by(InboxMessage.id.desc()).limit(limit + 1))
    return rows[:limit], (rows[limit - 1].id if len(rows) > limit else None)


def unread_count(*, veteran_id):
    return db.session.scalar(
        select(func.count()).where(InboxMessage.veteran_id == veteran_id, InboxMessage.read_at.is_(None))
    )


def mark_read(*, veteran_id, message_id):
    """Mark one of the veteran's own messages read (idempotent); returns its InboxEntry.

    :raises MessageNotFound: not theirs or missing."""
    with transaction():
        message = db.session.scalars(
            select(InboxMessage).where(InboxMessage.id == message_id, InboxMessage.veteran_id == veteran_id)
        ).first()
        if message is None:
            if denials.exists(InboxMessage, message_id):  # another veteran's message: audited, answered as not found
                raise denials.mark(MessageNotFound(), object_type="inbox_message", object_id=message_id)
            raise MessageNotFound()
        if message.read_at is None:
            db.session.execute(
                update(InboxMessage)
                .where(InboxMessage.id == message.id, InboxMessage.read_at.is_(None))
                .values(read_at=utcnow())
            )
            db.session.refresh(message)
    return _entries(select(InboxMessage, OrgUnit.name).where(InboxMessage.id == message.id))[0]


def _own_message(veteran_id, message_id):
    message = db.session.scalars(
        select(InboxMessage).where(InboxMessage.id == message_id, InboxMessage.veteran_id == veteran_id)
    ).first()
    if message is None:
        if denials.exists(InboxMessage, message_id):  # another veteran's message: audited, answered as not found
            raise denials.mark(MessageNotFound(), object_type="inbox_message", object_id=message_id)
        raise MessageNotFound()
    return message


def acknowledge(*, veteran_id, message_id):
    """「我已阅读并知悉」 on one of the veteran's own messages that asks for it (issue 19, education reminders): sets
    acknowledged_at (and read_at when unread) once; a repeat answers with the same acknowledged_at. The station's
    open chase task for the message is closed. Returns its InboxEntry.

    :raises MessageNotFound: not theirs or missing. :raises AckNotRequired: the message asks for no acknowledgement.
    """
    from backend.notifications.models import CallTask

    with transaction():
        message = _own_message(veteran_id, message_id)
        if not message.requires_ack:
            raise AckNotRequired()
        if message.acknowledged_at is None:
            now = utcnow()
            db.session.execute(
                update(InboxMessage)
                .where(InboxMessage.id == message.id, InboxMessage.acknowledged_at.is_(None))
                .values(acknowledged_at=now, read_at=func.coalesce(InboxMessage.read_at, now))
                .execution_options(synchronize_session=False)
            )
            if message.notification_id is not None:
                db.session.execute(
                    update(CallTask)
                    .where(
                        CallTask.notification_id == message.notification_id,
                        CallTask.veteran_id == veteran_id,
                        CallTask.status == "open",
                    )
                    .values(status="done", outcome="read", handled_at=now)
                    .execution_options(synchronize_session=False)
                )
            db.session.refresh(message)
    return _entries(select(InboxMessage, OrgUnit.name).where(InboxMessage.id == message.id))[0]


def open_message(*, veteran_id, message_id):
    """One of the veteran's own messages; opening it marks it read. :raises MessageNotFound: not theirs or missing."""
    return mark_read(veteran_id=veteran_id, message_id=message_id)
