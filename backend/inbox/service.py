"""Writing and reading the inbox. Every capability posts here; the veteran reads on the phone."""

from collections import defaultdict

from sqlalchemy import func, insert, literal, select, update

from backend import denials
from backend.bulk import id_rows
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


def post_messages(rows):
    """Add many messages at once (joins the caller's transaction); returns how many.

    The bulk entry point for writers that reach many veterans at once (the scheduled jobs' reminders): `rows` is an
    iterable of dicts with veteran_id, kind, title, body and optionally link, as post_message takes them. Rows with
    the same message are written by one INSERT … SELECT over the list of veteran ids, so a batch of reminders costs
    one statement, not one per veteran. Like post_message it only inserts (there is no delivery step yet); the
    delivery pipeline of the next issue builds on this function, so new bulk writers should call it rather than
    insert into inbox_message themselves.
    """
    table = InboxMessage.__table__
    messages = defaultdict(list)
    for row in rows:
        messages[(row["kind"], row["title"][:100], row["body"], row.get("link"))].append(row["veteran_id"])
    if not messages:
        return 0
    now = utcnow()
    with transaction():
        for (kind, title, body, link), veteran_ids in messages.items():
            veterans = id_rows(veteran_ids, name="veteran_id")
            source = select(
                veterans.c.veteran_id,
                literal(kind),
                literal(title),
                literal(body),
                literal(link, table.c.link.type),
                literal(now, table.c.created_at.type),
            )
            columns = ["veteran_id", "kind", "title", "body", "link", "created_at"]
            db.session.execute(insert(table).from_select(columns, source))
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
