"""Writing and reading the inbox. Every capability posts here; the veteran reads on the phone."""

from collections import defaultdict

from sqlalchemy import func, select, update

from backend import denials
from backend.db import transaction, utcnow
from backend.errors import NotFound
from backend.extensions import db
from backend.inbox.models import InboxMessage
from backend.notifications.events import notify


class MessageNotFound(NotFound):
    code = "inbox.not_found"
    message = "未找到该消息"


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


def list_inbox(*, veteran_id, cursor=None, limit=20):
    """Newest first, keyset by id. Returns (messages, next_cursor)."""
    query = select(InboxMessage).where(InboxMessage.veteran_id == veteran_id)
    if cursor:
        query = query.where(InboxMessage.id < cursor)
    rows = db.session.scalars(query.order_by(InboxMessage.id.desc()).limit(limit + 1)).all()
    return rows[:limit], (rows[limit - 1].id if len(rows) > limit else None)


def unread_count(*, veteran_id):
    return db.session.scalar(
        select(func.count()).where(InboxMessage.veteran_id == veteran_id, InboxMessage.read_at.is_(None))
    )


def mark_read(*, veteran_id, message_id):
    """Mark one of the veteran's own messages read (idempotent). :raises MessageNotFound: not theirs or missing."""
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
    return message
