"""The daily overdue job: a planned return date that has passed with no return report makes the trip overdue,
puts it on the station's follow-up list and writes one reminder to the veteran's inbox.

Set-based: it reads the clear `trip.return_due_on` (see Trip) through a partial index, never decrypts a trip, and
marks BATCH trips per transaction with `UPDATE … WHERE id IN (SELECT … LIMIT … FOR UPDATE SKIP LOCKED) RETURNING`,
then bulk-inserts the timeline events and the inbox reminders of exactly the trips returned. A trip being returned
right now is locked, skipped, and looked at again by the next run.
"""

from sqlalchemy import false, insert, literal, select, update

from backend.bulk import id_in
from backend.db import transaction, utcnow
from backend.extensions import db
from backend.inbox.service import post_messages
from backend.registration.windows import today_cst
from backend.travel.models import Trip, TripEvent

BATCH = 1000  # trips marked per transaction
TRIP = Trip.__table__
EVENT = TripEvent.__table__
REMINDER = {
    "kind": "travel.overdue",
    "title": "请报告返回情况",
    "body": "您报备的出行已过计划返回日期，请在小程序中报告返回日期；如行程有变，请联系服务站。",
    "link": "pages/travel/index",
}


def _mark_batch(today, *, reminded):
    """Mark up to BATCH overdue trips whose overdue_reminded is `reminded`, in one transaction. Trips not yet reminded
    are reminded now (overdue_reminded set, one inbox message each). Returns how many were marked."""
    with transaction():
        now = utcnow()
        picked = (
            select(TRIP.c.id)
            .where(
                TRIP.c.status.in_(("planned", "departed")),
                TRIP.c.overdue == false(),
                TRIP.c.return_due_on < today,
                TRIP.c.overdue_reminded.is_(reminded),
            )
            .limit(BATCH)
            .with_for_update(skip_locked=True)
        )
        rows = db.session.execute(
            update(TRIP)
            .where(TRIP.c.id.in_(picked.scalar_subquery()), TRIP.c.overdue == false())
            .values(overdue=True, overdue_reminded=True, updated_at=now)
            .returning(TRIP.c.id, TRIP.c.veteran_id)
        ).all()
        if not rows:
            return 0
        columns = ["trip_id", "occurred_at", "actor_type", "channel", "action", "details"]
        source = select(
            TRIP.c.id,
            literal(now, EVENT.c.occurred_at.type),
            literal("system"),
            literal("system"),
            literal("overdue"),
            literal({}, EVENT.c.details.type),
        ).where(id_in(TRIP.c.id, [trip_id for trip_id, _ in rows]))
        db.session.execute(insert(EVENT).from_select(columns, source))
        if not reminded:
            post_messages({**REMINDER, "veteran_id": veteran_id} for _, veteran_id in rows)
    return len(rows)


def mark_overdue(*, now=None):
    """Mark every trip whose planned return date (CST) has passed while still planned or departed. Idempotent: a
    marked trip leaves the partial index the job scans. Returns how many were marked."""
    today = today_cst(now)
    marked = 0
    for reminded in (False, True):
        while count := _mark_batch(today, reminded=reminded):
            marked += count
    return marked
