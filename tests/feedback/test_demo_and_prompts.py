"""The demo's feedback (ratings incl. bad ones with cases, one overdue, a complaint about a staff member, a closed
case) and the inbox prompt to rate (no hooks: computed from the source tables, once per new event)."""

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from backend.db import transaction
from backend.extensions import db
from backend.feedback import demo, handling, prompts, ratings
from backend.feedback.models import FeedbackCase, Rating
from backend.inbox.models import InboxMessage
from tests.factories import create_staff, create_veteran
from tests.feedback.helpers import contact, veteran_with_account


def test_demo_feedback(world):
    from backend.staff.models import Staff

    create_staff(unit=world.x1, username="station")
    create_staff(unit=world.x, roles=("center_reviewer",), username="reviewer")
    for _ in range(12):
        create_veteran(station=world.x1)
    with transaction():
        demo.load({"青山镇退役军人服务站": world.x1, "青山县": world.x})
    assert db.session.scalar(select(func.count()).select_from(Rating)) == 9
    rows = db.session.scalars(select(FeedbackCase).order_by(FeedbackCase.id)).all()
    assert [c.state for c in rows] == ["open", "open", "closed", "open"]
    assert rows[3].subject_staff_id is not None and rows[2].closed_in_time is True
    worker = db.session.scalars(select(Staff).where(Staff.username == "station")).first()
    assert rows[3].subject_staff_id == worker.id
    assert handling.escalate_overdue() == 1  # the overdue one moves up to the city


def _prompts(veteran_id):
    return db.session.scalar(
        select(func.count()).where(InboxMessage.veteran_id == veteran_id, InboxMessage.kind == "feedback.prompt")
    )


def test_the_prompt_once_per_new_event(world):
    veteran, account = veteran_with_account(world)
    rated_only, rated_account = veteran_with_account(world)
    record = contact(rated_only, world.staff_x)
    ratings.rate(account=rated_account, subject="contact", subject_id=record.id, score=5)
    contact(veteran, world.staff_x)  # yesterday
    assert prompts.prompt_pending() == 1
    assert prompts.prompt_pending() == 0  # the watermark: yesterday is done
    assert _prompts(veteran.id) == 1 and _prompts(rated_only.id) == 0
    contact(veteran, world.staff_x, days_ago=0)  # a new event today: prompted by tomorrow's run
    assert prompts.prompt_pending() == 0
    tomorrow = datetime.now(UTC) + timedelta(days=1)
    assert prompts.prompt_pending(now=tomorrow) == 1 and _prompts(veteran.id) == 2
    assert prompts.prompt_pending(now=tomorrow) == 0
