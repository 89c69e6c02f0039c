"""Steps other capabilities complete: the archive intake (backend/archives) and the welcome ceremony (honors).

Called inside the caller's transaction; a no-op when the veteran has no open case or the step is already done.
"""

from sqlalchemy import select

from backend.audit import service as audit
from backend.extensions import db
from backend.onboarding.models import OnboardingCase, OnboardingEvent, OnboardingStep
from backend.onboarding.rules import LINKED
from backend.orgs.models import OrgUnit


def step_done_elsewhere(*, actor, veteran_id, step, done_on, note=None):
    """Mark `step` (one of rules.LINKED) of the veteran's open case done on `done_on` by `actor`; return the step or
    None. :raises ValueError: another step (those are worked on the case page, under its rules)."""
    if step not in LINKED:
        raise ValueError(f"step {step!r} is not completed elsewhere (rules.LINKED)")
    row = db.session.execute(
        select(OnboardingStep, OnboardingCase)
        .join(OnboardingCase, OnboardingCase.id == OnboardingStep.case_id)
        .where(OnboardingCase.veteran_id == veteran_id, OnboardingCase.status == "open", OnboardingStep.step == step)
    ).first()
    if row is None or row.OnboardingStep.state in ("done", "not_applicable"):
        return None
    item, case = row
    before = item.state
    item.state, item.done_on, item.handler_id = "done", done_on, actor.id
    if note:
        item.note = note[:500]
    db.session.add(
        OnboardingEvent(
            case_id=case.id, step=step, action="state", from_state=before, to_state="done", staff_id=actor.id, note=note
        )
    )
    audit.record(
        actor=actor,
        action="onboarding.step",
        object_type="onboarding_case",
        object_id=case.id,
        org_path=db.session.scalar(select(OrgUnit.path).where(OrgUnit.id == case.station_id)),
        details={"step": step, "from": before, "to": "done", "via": "linked"},
    )
    return item
