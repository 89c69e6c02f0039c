"""Due-date arithmetic of contact plans (issue 16, C1), with frozen time: interval, attention, follow-up, never
contacted, per-unit policies up the tree, and the CST day edges of "overdue"."""

from datetime import UTC, date, datetime

import pytest
from freezegun import freeze_time

from backend.care import contacts, plans
from backend.care.models import ContactPlan
from backend.db import transaction
from backend.errors import ValidationFailed
from backend.extensions import db
from tests.factories import create_veteran


def test_compute_due_interval_and_follow_up():
    base = date(2026, 1, 1)
    assert plans.compute_due(interval_days=90, base_on=base) == date(2026, 4, 1)
    assert plans.compute_due(interval_days=90, base_on=base, last_contact_on=date(2026, 3, 1)) == date(2026, 5, 30)
    earlier = date(2026, 3, 15)
    assert (
        plans.compute_due(interval_days=90, base_on=base, last_contact_on=date(2026, 3, 1), follow_up_on=earlier)
        == earlier
    )
    later = date(2026, 9, 1)
    assert plans.compute_due(
        interval_days=90, base_on=base, last_contact_on=date(2026, 3, 1), follow_up_on=later
    ) == date(2026, 5, 30)


@freeze_time(datetime(2026, 6, 1, 4, 0, tzinfo=UTC))
def test_never_contacted_is_due_from_placement_date_else_creation(world):
    placed = create_veteran(station=world.x1, placement_date=date(2026, 1, 10))
    fresh = create_veteran(station=world.x1)
    with transaction():
        assert plans.plan_of(placed).due_on == date(2026, 4, 10)
        assert plans.plan_of(fresh).due_on == date(2026, 8, 30)  # created 2026-06-01 + 90


@freeze_time(datetime(2026, 6, 1, 4, 0, tzinfo=UTC))
def test_contact_moves_the_due_date_and_attention_shortens_it(world):
    veteran = create_veteran(station=world.x1, grid=world.x1_grid)
    contacts.record_contact(actor=world.staff_x, veteran_id=veteran.id, contact_on="2026-05-20", way="phone")
    plan = db.session.query(ContactPlan).filter_by(veteran_id=veteran.id).one()
    assert (plan.last_contact_on, plan.due_on, plan.covered_until) == (
        date(2026, 5, 20),
        date(2026, 8, 18),
        date(2026, 8, 18),
    )
    plans.update_plan(actor=world.staff_x, veteran_id=veteran.id, attention=True, assignee="")
    assert plan.interval_days == 30 and plan.due_on == date(2026, 6, 19)
    # a follow-up earlier than the interval wins; a later contact without one clears it
    contacts.record_contact(
        actor=world.staff_x, veteran_id=veteran.id, contact_on="2026-05-25", way="home_visit", follow_up_on="2026-06-05"
    )
    assert plan.due_on == date(2026, 6, 5)
    contacts.record_contact(actor=world.staff_x, veteran_id=veteran.id, contact_on="2026-06-01", way="wechat")
    assert plan.follow_up_on is None and plan.due_on == date(2026, 7, 1)
    # an older contact recorded late does not move the plan back
    contacts.record_contact(actor=world.staff_x, veteran_id=veteran.id, contact_on="2026-04-01", way="phone")
    assert plan.last_contact_on == date(2026, 6, 1)


@freeze_time(datetime(2026, 6, 1, 4, 0, tzinfo=UTC))
def test_nearest_policy_up_the_tree_wins(world):
    veteran = create_veteran(station=world.x1, grid=world.x1_grid)
    assert plans.policy_for(veteran.unit_path) == (90, 30)
    plans.set_policy(actor=world.staff_x, unit_id=world.x.id, interval_days=60, attention_interval_days=20)
    assert plans.policy_for(veteran.unit_path) == (60, 20)
    plans.set_policy(actor=world.staff_x, unit_id=world.x1.id, interval_days=45, attention_interval_days=15)
    assert plans.policy_for(veteran.unit_path) == (45, 15)
    assert plans.policy_for(world.y1.path) == (90, 30)


@freeze_time(datetime(2026, 6, 1, 4, 0, tzinfo=UTC))
def test_policy_change_recomputes_plans_below(world, enqueued):
    veteran = create_veteran(station=world.x1)
    contacts.record_contact(actor=world.staff_x, veteran_id=veteran.id, contact_on="2026-05-01", way="phone")
    plans.set_policy(actor=world.staff_x, unit_id=world.x1.id, interval_days=10, attention_interval_days=5)
    assert enqueued == [("care.recompute_plans", (world.x1.id,))]
    plans.recompute_under(world.x1.path)  # what the task runs (it resolves the unit's path from its id)
    plan = db.session.query(ContactPlan).filter_by(veteran_id=veteran.id).one()
    db.session.refresh(plan)
    assert plan.interval_days == 10 and plan.due_on == date(2026, 5, 11)


def test_policy_values_are_checked(world):
    with pytest.raises(ValidationFailed) as caught:
        plans.set_policy(actor=world.staff_x, unit_id=world.x1.id, interval_days=0, attention_interval_days=999)
    assert set(caught.value.details) == {"interval_days", "attention_interval_days"}


@pytest.mark.parametrize(
    ("now", "overdue"),
    [
        (datetime(2026, 6, 10, 15, 59, 59, tzinfo=UTC), False),  # 2026-06-10 23:59:59 CST: due today, not overdue
        (datetime(2026, 6, 10, 16, 0, 0, tzinfo=UTC), True),  # 2026-06-11 00:00 CST: one day overdue
    ],
)
def test_overdue_turns_at_midnight_cst(now, overdue):
    plan = ContactPlan(due_on=date(2026, 6, 10))
    with freeze_time(now):
        assert plans.is_overdue(plan) is overdue
        assert plans.days_overdue(plan) == (1 if overdue else 0)


@freeze_time(datetime(2026, 6, 1, 4, 0, tzinfo=UTC))
def test_contact_fields_are_validated(world):
    veteran = create_veteran(station=world.x1)
    with pytest.raises(ValidationFailed) as caught:
        contacts.record_contact(
            actor=world.staff_x,
            veteran_id=veteran.id,
            contact_on="2026-06-02",
            way="fax",
            follow_up_on="x",
            notes={"thought": "长" * 1001},
        )
    assert set(caught.value.details) == {"contact_on", "way", "follow_up_on", "note_thought"}
