"""Fan-out, first half: a staff notification's recipients become queued deliveries with their inbox entries.

Chunks of veteran ids (backend/notifications/recipients.materialize, owned by compose), each chunk committed with
its inbox entries rendered per veteran (render.fill with 姓名/服务站/单位/日期/标题) and the cursor
`materialized_to`, so a fan-out that dies resumes where it stopped. The notification row is locked per chunk: two
fan-outs of one notification take turns, and an inbox entry is written only where none exists.
"""

from flask import current_app
from sqlalchemy import exists, func, insert, select

from backend.db import transaction, utcnow
from backend.extensions import db
from backend.inbox.models import InboxMessage
from backend.notifications import render
from backend.notifications.kinds import requires_ack
from backend.notifications.models import Delivery, NotificationPick
from backend.orgs.models import OrgUnit
from backend.veterans.models import Veteran


def load(notification_id, *, lock=False):
    """The notification as the database has it now (never the session's stale copy)."""
    from backend.notifications.models import Notification

    query = select(Notification).where(Notification.id == notification_id).execution_options(populate_existing=True)
    return db.session.scalars(query.with_for_update() if lock else query).first()


def _materialize_chunk(notification, after_id, limit):
    try:
        from backend.notifications import recipients
    except ImportError:
        recipients = None
    if recipients is not None and hasattr(recipients, "materialize"):
        return recipients.materialize(notification, after_id, limit)
    return _materialize_picks(notification, after_id, limit)


def _materialize_picks(notification, after_id, limit):
    """Fallback while recipients.materialize is missing: the hand-picked recipients only."""
    ids = db.session.scalars(
        select(NotificationPick.veteran_id)
        .where(NotificationPick.notification_id == notification.id, NotificationPick.veteran_id > (after_id or 0))
        .order_by(NotificationPick.veteran_id)
        .limit(limit)
    ).all()
    if not ids:
        return None
    now = utcnow()
    db.session.execute(
        insert(Delivery),
        [dict(notification_id=notification.id, veteran_id=v, status="queued", attempts=0, created_at=now) for v in ids],
    )
    return ids[-1]


def materialize_all(notification_id, on_chunk=None):
    """Write the recipients chunk by chunk, each chunk with its inbox entries, in one committed transaction each (the
    notification row locked, so two fan-outs of one notification take turns); resumes from `materialized_to`.

    `on_chunk(first_id, last_id)`, when given, is called after each commit with the id range of the chunk's queued
    deliveries (issue 21: its batch is enqueued at once, so sending overlaps the rest of the fan-out). Returns how
    many chunks it was called for."""
    chunk, handed = current_app.config["NOTIFY_BATCH_SIZE"], 0
    while True:
        ready = None
        with transaction():
            notification = load(notification_id, lock=True)
            if notification is None or notification.status != "sending" or notification.materialized:
                return handed
            after = notification.materialized_to
            last = _materialize_chunk(notification, after, chunk)
            if last is None:
                notification.materialized = True
                notification.recipient_count = db.session.scalar(
                    select(func.count()).select_from(Delivery).where(Delivery.notification_id == notification_id)
                )
            else:
                write_inbox(notification, after or 0, last)
                notification.materialized_to = last
                if on_chunk is not None:
                    ready = chunk_range(notification_id, after or 0, last)
        if ready is not None and ready[0] is not None:
            on_chunk(*ready)
            handed += 1


def chunk_range(notification_id, after_id, last_id):
    """(first, last) delivery id of the queued deliveries of veterans (after_id, last_id], or (None, None)."""
    return db.session.execute(
        select(func.min(Delivery.id), func.max(Delivery.id)).where(
            Delivery.notification_id == notification_id,
            Delivery.veteran_id > after_id,
            Delivery.veteran_id <= last_id,
            Delivery.status == "queued",
        )
    ).one()


def shared_values(notification):
    """The card and inbox values every recipient of `notification` shares (标题, 单位, 日期 and its variables)."""
    unit = db.session.get(OrgUnit, notification.sender_unit_id) if notification.sender_unit_id else None
    return render.common_values(
        title=notification.title,
        sender_unit=unit.name if unit else None,
        when=notification.started_at or notification.created_at,
        extra=notification.variables,
    )


def write_inbox(notification, after_id, last_id):
    """Inbox entries rendered per veteran for the deliveries of veterans (after_id, last_id] that have none yet."""
    # The range bound on the inbox side too (issue 21): the planner, whose statistics lag behind a fan-out's fresh
    # rows, may scan the whole notification's inbox per delivery (a join filter, not an index condition), which made
    # each chunk read every earlier chunk's entries: 10.8 s a chunk at 38k of 100k. Bounded, it reads this chunk's.
    have = exists().where(
        InboxMessage.notification_id == notification.id,
        InboxMessage.veteran_id == Delivery.veteran_id,
        InboxMessage.veteran_id > after_id,
        InboxMessage.veteran_id <= last_id,
    )
    rows = db.session.execute(
        select(Delivery.veteran_id, Veteran.name, OrgUnit.name)
        .join(Veteran, Veteran.id == Delivery.veteran_id)
        .join(OrgUnit, OrgUnit.id == Veteran.station_id)
        .where(
            Delivery.notification_id == notification.id,
            Delivery.veteran_id > after_id,
            Delivery.veteran_id <= last_id,
            ~have,
        )
    ).all()
    if not rows:
        return 0
    base, now = shared_values(notification), utcnow()
    ack = requires_ack(notification.kind)  # issue 19: education reminders ask for 「我已阅读并知悉」
    entries = []
    for veteran_id, name, station in rows:
        values = {**base, "姓名": name, "服务站": station}
        entries.append(
            dict(
                veteran_id=veteran_id,
                kind=notification.kind,
                title=render.fill(notification.title, values)[:100],
                body=render.fill(notification.body, values),
                link=notification.link,
                created_at=now,
                notification_id=notification.id,
                requires_ack=ack,
            )
        )
    db.session.execute(insert(InboxMessage), entries)
    return len(entries)
