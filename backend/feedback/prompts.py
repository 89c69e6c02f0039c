"""The daily prompt to rate (inbox only, kind feedback.prompt): no hook in the capabilities that serve.

Once a CST day (beat and the ticker call it hourly; a watermark makes it act once) the job takes the days not yet
prompted (after the watermark, at most PROMPT_DAYS back, up to yesterday), finds the veterans with an unrated event
on those days — the same sources, statuses and event-time columns as backend/feedback/pending.py, each read through
an index on that column (migration 0028) — and posts one inbox message to each (one notification per chunk). The
watermark moves in the same transaction, under a row lock: a second run, or a concurrent one, prompts nobody again.
"""

from datetime import datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from backend.assistance.models import AssistanceCase
from backend.bookings.models import Booking
from backend.care.models import ContactRecord
from backend.db import transaction
from backend.extensions import db
from backend.feedback.models import FeedbackPromptMark, Rating
from backend.notifications.events import notify
from backend.registration.models import Registration
from backend.registration.windows import CST, today_cst
from backend.visits.models import Visit

PROMPT_DAYS = 7
CHUNK = 500
MARK_ID = 1


def _start(day):
    return datetime.combine(day, time.min, CST)


def _sources(first, end):
    """(subject, model, conditions) of events on CST days [first, end), as pending.py reads them."""
    t0, t1 = _start(first), _start(end)
    return (
        ("booking", Booking, (Booking.completed_at >= t0, Booking.completed_at < t1, Booking.status == "completed")),
        (
            "registration",
            Registration,
            (Registration.decided_at >= t0, Registration.decided_at < t1, Registration.status == "approved"),
        ),
        (
            "assistance",
            AssistanceCase,
            (AssistanceCase.closed_on >= first, AssistanceCase.closed_on < end, AssistanceCase.status == "closed"),
        ),
        ("contact", ContactRecord, (ContactRecord.contact_on >= first, ContactRecord.contact_on < end)),
        ("visit", Visit, (Visit.visited_on >= first, Visit.visited_on < end, Visit.status == "done")),
    )


def _veterans(first, end):
    """Sorted ids of veterans with an unrated event on the days [first, end)."""
    found = set()
    for subject, model, conditions in _sources(first, end):
        rated = select(Rating.id).where(
            Rating.subject == subject, Rating.subject_id == model.id, Rating.veteran_id == model.veteran_id
        )
        found.update(db.session.scalars(select(model.veteran_id).where(*conditions, ~rated.exists()).distinct()))
    return sorted(found)


def prompt_pending(now=None):
    """Prompt every veteran with an unrated event on the days not yet prompted. Returns how many were prompted."""
    today = today_cst(now)
    try:
        with transaction():
            mark = db.session.scalars(
                select(FeedbackPromptMark).where(FeedbackPromptMark.id == MARK_ID).with_for_update()
            ).first()
            first = today - timedelta(days=PROMPT_DAYS)
            if mark is not None:
                first = max(first, mark.done_through + timedelta(days=1))
            if first >= today:
                return 0  # yesterday is done: the hourly calls act once a day
            due = _veterans(first, today)
            for start in range(0, len(due), CHUNK):
                notify(
                    "feedback.prompt",
                    due[start : start + CHUNK],
                    title="请为近期服务评价",
                    body="您近期办理的服务可以评价了（非常满意至非常不满意），也欢迎提出投诉和建议。",
                    link="pages/feedback/pending",
                )
            if mark is None:
                mark = FeedbackPromptMark(id=MARK_ID)
                db.session.add(mark)
            mark.done_through = today - timedelta(days=1)
    except IntegrityError:  # a concurrent first run inserted the mark: it prompted these days
        return 0
    return len(due)
