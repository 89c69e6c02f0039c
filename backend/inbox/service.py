"""Writing and reading the inbox. Every capability posts here; the veteran reads on the phone."""

from sqlalchemy import func, select, update

from backend import denials
from backend.db import transaction, utcnow
from backend.errors import NotFound
from backend.extensions import db
from backend.inbox.models import InboxMessage


class MessageNotFound(NotFound):
    code = "inbox.not_found"
    message = "未找到该消息"


def post_message(*, veteran_id, kind, title, body, link=None):
    """Add a message to a veteran's inbox (joins the caller's transaction)."""
    with transaction():
        message = InboxMessage(veteran_id=veteran_id, kind=kind, title=title[:100], body=body, link=link)
        db.session.add(message)
        db.session.flush()
    return message


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
