"""Working a case: a step's state (pending -> in_progress -> done, back with a note), the coordination of steps other
departments complete, the welcome ceremony, closing. Each change writes an OnboardingEvent and an audit record, and
is refused when the form was read before somebody else's change (the step's or case's version_id): nothing is
overwritten."""

from datetime import date, timedelta

from sqlalchemy import select

from backend.db import transaction
from backend.errors import StaleUpdate, ValidationFailed
from backend.extensions import db
from backend.onboarding import rules
from backend.onboarding.models import COORDINATED, STEPS, OnboardingEvent
from backend.onboarding.rules import CaseNotFound, StepsOpen, StepStateInvalid
from backend.onboarding.service import EARLIEST_YEAR, audit, get_case, steps_of
from backend.registration.windows import today_cst

STALE = "该事项刚被他人更新，您的修改未保存，请查看最新情况后重试"


def _fresh(row, version):
    """Refuse a form read before the row's last change (version None: the caller does not check)."""
    if version is not None and version != row.version_id:
        raise StaleUpdate(STALE, details={"version": row.version_id})


def _note(text, field="note", limit=rules.NOTE_MAX):
    text = (text or "").strip()
    if len(text) > limit:
        raise ValidationFailed(details={field: f"不超过{limit}个字"})
    return text or None


def _locked(actor, case_id, step):
    """(case, step row, {code: step}) with the case locked; an unknown step is not-found."""
    if step not in STEPS:
        raise CaseNotFound("未找到该办理事项")
    case = get_case(actor=actor, case_id=case_id, permission="onboarding.manage", lock=True)
    steps = {s.step: s for s in steps_of(case.id)}
    return case, steps[step], steps


def sync_party_membership(*, actor, case_id):
    """Follow a correction of the registry's party membership (Art. 7: transfer first, then check-in, for members):
    a member whose transfer step is not applicable gets it required and pending; a non-member's open (pending or in
    progress) transfer step becomes not applicable. A done step stays as it is. Own transaction, audited and evented
    like any step change; returns the step when it changed, else None. Runs before every state change and closing,
    so the rule is checked against the registry as it is now.

    :raises PermissionDenied, CaseNotFound:
    """
    from flask import current_app

    from backend.veterans.models import Veteran

    with transaction():
        case, item, _ = _locked(actor, case_id, "party_transfer")
        member = bool(db.session.scalar(select(Veteran.party_member).where(Veteran.id == case.veteran_id)))
        if case.status != "open" or member == case.party_member:
            return None
        before = item.state
        if member and before == "not_applicable":
            days = current_app.config["ONBOARDING_STEP_DUE_DAYS"].get("party_transfer", 30)
            item.required, item.state, item.due_on = True, "pending", case.arrived_on + timedelta(days=days)
        elif not member and before in ("pending", "in_progress"):
            item.required, item.state, item.due_on = False, "not_applicable", None
        case.party_member = member
        if item.state == before:
            db.session.flush()
            return None
        note = (
            "登记信息更正为中共党员，须办理党员组织关系转接"
            if member
            else "登记信息更正为非党员，无需办理党员组织关系转接"
        )
        db.session.add(
            OnboardingEvent(
                case_id=case.id,
                step="party_transfer",
                action="state",
                from_state=before,
                to_state=item.state,
                staff_id=actor.id,
                note=note,
            )
        )
        db.session.flush()
        audit(
            actor,
            "onboarding.step",
            case,
            step="party_transfer",
            via="party_member",
            party_member=member,
            **{"from": before, "to": item.state},
        )
    return item


def set_state(*, actor, case_id, step, to_state, version=None, note=None):
    """Move a step to `to_state`. Done records today (CST) and the handler; back from done needs a note. The party
    membership is synced from the registry first (sync_party_membership).

    :raises PermissionDenied, CaseNotFound, StepStateInvalid, TransferFirst, StaleUpdate, ValidationFailed:
    """
    note = _note(note)
    if step in STEPS:
        sync_party_membership(actor=actor, case_id=case_id)
    with transaction():
        case, item, steps = _locked(actor, case_id, step)
        _fresh(item, version)
        rules.check_move(case, item, to_state, steps, note)
        before = item.state
        item.state = to_state
        item.handler_id = actor.id
        item.done_on = today_cst() if to_state == "done" else None
        if note:
            item.note = note
        db.session.add(
            OnboardingEvent(
                case_id=case.id,
                step=step,
                action="state",
                from_state=before,
                to_state=to_state,
                staff_id=actor.id,
                note=note,
            )
        )
        db.session.flush()
        audit(actor, "onboarding.step", case, step=step, **{"from": before, "to": to_state})
    return item


def record_coordination(*, actor, case_id, step, contact_party, contacted_on, result, version=None):
    """Who in the other department was contacted, when, and the result (coordinated steps only).

    :raises PermissionDenied, CaseNotFound, StepStateInvalid, StaleUpdate, ValidationFailed:
    """
    errors = {}
    contact_party = (contact_party or "").strip()
    if not contact_party or len(contact_party) > 100:
        errors["contact_party"] = "请填写联系的部门和人员（不超过100个字）"
    if not isinstance(contacted_on, date) or contacted_on.year < EARLIEST_YEAR or contacted_on > today_cst():
        errors["contacted_on"] = "请填写联系日期（不晚于今天）"
    result = (result or "").strip()
    if not result or len(result) > rules.NOTE_MAX:
        errors["coordination_result"] = f"请填写协调结果（不超过{rules.NOTE_MAX}个字）"
    if errors:
        raise ValidationFailed(details=errors)
    with transaction():
        case, item, _ = _locked(actor, case_id, step)
        if step not in COORDINATED:
            raise StepStateInvalid("该事项由服务站办理，无需登记协调情况")
        if case.status != "open" or item.state == "not_applicable":
            raise StepStateInvalid(details={"state": item.state, "status": case.status})
        _fresh(item, version)
        item.contact_party, item.contacted_on, item.coordination_result = contact_party, contacted_on, result
        item.handler_id = actor.id
        db.session.add(
            OnboardingEvent(
                case_id=case.id,
                step=step,
                action="coordination",
                staff_id=actor.id,
                note=f"{contacted_on.isoformat()} 联系{contact_party}：{result}"[: rules.NOTE_MAX],
            )
        )
        db.session.flush()
        audit(actor, "onboarding.coordination", case, step=step, contacted_on=contacted_on.isoformat())
    return item


def record_welcome(*, actor, case_id, held_at, place, attendees, note=None, version=None):
    """The welcome ceremony of an open case (backend/honors/welcome.py): the ceremony and the step done.

    :raises PermissionDenied, CaseNotFound, StepStateInvalid, StaleUpdate, ValidationFailed:
    """
    from backend.honors.welcome import record_welcome as record

    with transaction():
        case, item, _ = _locked(actor, case_id, "welcome_ceremony")
        _fresh(item, version)
        if case.status != "open" or case.ceremony_id is not None or item.state == "done":
            raise StepStateInvalid("欢迎仪式已登记或接收安置已办结")
        return record(actor=actor, case=case, held_at=held_at, place=place, attendees=attendees, note=note)


def close_case(*, actor, case_id, summary, version=None):
    """Close a case whose required steps are all done: status closed, closed_on today (CST), the summary.

    :raises PermissionDenied, CaseNotFound, StepStateInvalid, StepsOpen, StaleUpdate, ValidationFailed:
    """
    summary = (summary or "").strip()
    if not summary or len(summary) > rules.SUMMARY_MAX:
        raise ValidationFailed(details={"summary": f"请填写办结小结（不超过{rules.SUMMARY_MAX}个字）"})
    sync_party_membership(actor=actor, case_id=case_id)
    with transaction():
        case = get_case(actor=actor, case_id=case_id, permission="onboarding.manage", lock=True)
        _fresh(case, version)
        if case.status != "open":
            raise StepStateInvalid("该接收安置已办结", details={"status": case.status})
        still_open = rules.open_required(steps_of(case.id))
        if still_open:
            labels = "、".join(rules.STEP_LABELS[s.step] for s in still_open)
            raise StepsOpen(f"还有必办事项未完成，不能办结：{labels}", details={"steps": [s.step for s in still_open]})
        case.status, case.closed_on, case.closed_by_id, case.summary = "closed", today_cst(), actor.id, summary
        db.session.add(OnboardingEvent(case_id=case.id, action="closed", staff_id=actor.id))
        db.session.flush()
        audit(actor, "onboarding.closed", case, closed_on=case.closed_on.isoformat())
    return case


# --- the veteran's phone


def own_checklist(veteran_id):
    """(case, steps) of the veteran's own case, or (None, [])."""
    from backend.onboarding.service import case_of_veteran

    case = case_of_veteran(veteran_id)
    return (None, []) if case is None else (case, steps_of(case.id))
