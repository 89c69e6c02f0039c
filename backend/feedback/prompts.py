"""The daily prompt to rate (inbox only, kind feedback.prompt): no hook in the capabilities that serve. The job
finds veterans with a rateable event of the last PROMPT_DAYS days that is newer than their last prompt and not rated,
and posts one inbox message to each (one notification per chunk). Idempotent: a second run finds every event older
than the prompt it just sent."""

from datetime import timedelta

from sqlalchemy import func, select

from backend.assistance.models import AssistanceCase
from backend.bookings.models import Booking
from backend.care.models import ContactRecord
from backend.db import transaction, utcnow
from backend.extensions import db
from backend.feedback.models import Rating
from backend.inbox.models import InboxMessage
from backend.notifications.events import notify
from backend.registration.models import Registration
from backend.visits.models import Visit

PROMPT_DAYS = 7
CHUNK = 500


def _recent(since):
    """{veteran_id: latest event time} of unrated events since `since` (every source, grouped in the database)."""
    sources = (
        ("booking", Booking, Booking.completed_at, Booking.status == "completed"),
        ("registration", Registration, Registration.decided_at, Registration.status == "approved"),
        ("assistance", AssistanceCase, AssistanceCase.updated_at, AssistanceCase.status == "closed"),
        ("contact", ContactRecord, ContactRecord.created_at, ContactRecord.id.is_not(None)),
        ("visit", Visit, Visit.recorded_at, Visit.status == "done"),
    )
    latest = {}
    for subject, model, moment, condition in sources:
        rated = select(Rating.id).where(
            Rating.subject == subject, Rating.subject_id == model.id, Rating.veteran_id == model.veteran_id
        )
        query = (
            select(model.veteran_id, func.max(moment))
            .where(condition, moment >= since, ~rated.exists())
            .group_by(model.veteran_id)
        )
        for veteran_id, when in db.session.execute(query):
            if when is not None and (veteran_id not in latest or when > latest[veteran_id]):
                latest[veteran_id] = when
    return latest


def _aware(moment):
    from datetime import UTC

    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def prompt_pending(now=None):
    """Post the prompt to every veteran with a new rateable event. Returns how many were prompted."""
    now = now or utcnow()
    latest = _recent(now - timedelta(days=PROMPT_DAYS))
    if not latest:
        return 0
    prompted = {}
    ids = sorted(latest)
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        prompted.update(
            db.session.execute(
                select(InboxMessage.veteran_id, func.max(InboxMessage.created_at))
                .where(InboxMessage.veteran_id.in_(chunk), InboxMessage.kind == "feedback.prompt")
                .group_by(InboxMessage.veteran_id)
            ).all()
        )
    due = [v for v in ids if v not in prompted or _aware(prompted[v]) < _aware(latest[v])]
    for start in range(0, len(due), CHUNK):
        with transaction():
            notify(
                "feedback.prompt",
                due[start : start + CHUNK],
                title="请为近期服务评价",
                body="您近期办理的服务可以评价了（非常满意至非常不满意），也欢迎提出投诉和建议。",
                link="pages/feedback/pending",
            )
    return len(due)
