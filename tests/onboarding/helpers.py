"""Shared helpers of the onboarding tests: a veteran at X1 (party member or not) with an open case."""

from datetime import timedelta

from sqlalchemy import func, select

from backend.audit.models import AuditLog
from backend.extensions import db
from backend.onboarding import service, steps
from backend.onboarding.models import STEPS, OnboardingEvent
from backend.registration.windows import today_cst
from tests.factories import create_veteran


def new_case(world, *, party_member=True, station=None, arrived_days_ago=3, actor=None):
    veteran = create_veteran(station=station or world.x1, party_member=party_member)
    case = service.open_case(
        actor=actor or world.staff_x,
        veteran_id=veteran.id,
        arrived_on=today_cst() - timedelta(days=arrived_days_ago),
        notice_number="青安置〔2026〕001号",
    )
    return veteran, case


def step_row(case, code):
    return next(s for s in service.steps_of(case.id) if s.step == code)


def complete_all(world, case, skip=("welcome_ceremony",)):
    """Every applicable step done as staff_x, in checklist order (transfer before check-in)."""
    for code in STEPS:
        item = step_row(case, code)
        if item.state in ("done", "not_applicable") or code in skip:
            continue
        steps.set_state(actor=world.staff_x, case_id=case.id, step=code, to_state="done")


def audits(action, case_id):
    return db.session.scalar(select(func.count()).where(AuditLog.action == action, AuditLog.object_id == str(case_id)))


def events(case_id, action):
    return db.session.scalar(
        select(func.count()).where(OnboardingEvent.case_id == case_id, OnboardingEvent.action == action)
    )
