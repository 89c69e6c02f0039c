"""The steps of a feedback case (feedback.handle): assign, record the contact with the veteran, resolve with the
outcome, revisit (回访) and close; escalation of overdue cases (the hourly job) and of unsatisfied revisits.

open → contacted → resolved → closed (revisit satisfied or unreachable). closed_in_time: the last resolution came
by the first deadline (first_due_on, never the fresh one an escalation gives) and the veteran was reached to confirm
(an "unreachable" revisit never counts as in time).
An unsatisfied revisit moves the case up one level (like an overdue one); at the province it is reopened there.
Every step checks the row's version (optimistic concurrency) and that the actor is not the subject: the subject
cannot even find the case (cases.visible), and the check here is the second line.
"""

from sqlalchemy import select

from backend.audit.service import SystemActor
from backend.db import transaction, utcnow
from backend.errors import StaleUpdate, ValidationFailed
from backend.extensions import db
from backend.feedback import cases, rules
from backend.feedback.models import REVISIT_RESULTS, FeedbackCase, FeedbackCaseEvent
from backend.feedback.rules import AssigneeInvalid, CaseStateInvalid, SubjectCannotHandle
from backend.notifications.events import notify
from backend.orgs.models import OrgUnit
from backend.orgs.scope import require_permission
from backend.registration.windows import today_cst
from backend.staff.models import Staff


def _text(value, field, label):
    value = (value or "").strip()
    if not value:
        raise ValidationFailed(details={field: f"请填写{label}"})
    if len(value) > rules.NOTE_MAX:
        raise ValidationFailed(details={field: f"{label}不超过{rules.NOTE_MAX}字"})
    return value


def _locked(actor, case_id, expected_version, states):
    require_permission(actor, "feedback.handle")
    case = cases.get_case(actor=actor, case_id=case_id, permission="feedback.handle", lock=True)
    if case.subject_staff_id == actor.id:  # unreachable through visible(); kept as a second line
        raise SubjectCannotHandle()
    if expected_version is not None and case.version_id != int(expected_version):
        raise StaleUpdate()
    if case.state not in states:
        raise CaseStateInvalid(details={"state": case.state})
    return case


def _event(case, action, actor=None, **units):
    db.session.add(
        FeedbackCaseEvent(case_id=case.id, action=action, staff_id=actor.id if actor is not None else None, **units)
    )


def assign(*, actor, case_id, assignee_id, expected_version=None):
    """Assign the case to oneself or a colleague of the handling unit (never the subject).

    :raises CaseNotFound, AssigneeInvalid, CaseStateInvalid, StaleUpdate, PermissionDenied:"""
    with transaction():
        case = _locked(actor, case_id, expected_version, ("open", "contacted", "resolved"))
        raw = str(assignee_id or "")
        assignee = db.session.get(Staff, int(raw)) if raw.isascii() and raw.isdigit() and len(raw) < 19 else None
        if (
            assignee is None
            or not assignee.is_active
            or assignee.id == case.subject_staff_id
            or not assignee.can("feedback.handle")
            or (assignee.id != actor.id and assignee.org_unit_id != case.unit_id)
        ):
            raise AssigneeInvalid()
        case.assignee_id = assignee.id
        _event(case, "assigned", actor)
        cases.audit(actor, "feedback.assigned", case, assignee_id=assignee.id)
    return case


def record_contact(*, actor, case_id, note, expected_version=None):
    """The veteran was contacted: how, and what was said (sealed). :raises …as assign:"""
    note = _text(note, "note", "联系情况")
    with transaction():
        case = _locked(actor, case_id, expected_version, ("open", "contacted"))
        record = cases.handling(case)
        record["contacts"] = [*record.get("contacts", []), note]
        cases.set_handling(case, record)
        case.state, case.contacted_at = "contacted", utcnow()
        if case.assignee_id is None:
            case.assignee_id = actor.id
        _event(case, "contacted", actor)
        cases.audit(actor, "feedback.contacted", case)
    return case


def resolve(*, actor, case_id, outcome, expected_version=None):
    """The outcome is recorded (sealed); the veteran is told and will be asked again (回访)."""
    outcome = _text(outcome, "outcome", "办理结果")
    with transaction():
        case = _locked(actor, case_id, expected_version, ("contacted",))
        record = cases.handling(case)
        record["outcome"] = outcome
        cases.set_handling(case, record)
        case.state, case.resolved_at = "resolved", utcnow()
        _event(case, "resolved", actor)
        _tell(case, "您反映的问题已办理", "您反映的问题已办理完毕，工作人员将回访征求您的意见。", "已办理")
        cases.audit(actor, "feedback.resolved", case)
    return case


def revisit(*, actor, case_id, result, expected_version=None):
    """The veteran asked again: satisfied or unreachable closes the case (in time or not); unsatisfied sends it up
    one level (reopened at the province). Returns the case."""
    if result not in REVISIT_RESULTS:
        raise ValidationFailed(details={"result": "请选择回访结果"})
    with transaction():
        case = _locked(actor, case_id, expected_version, ("resolved",))
        case.revisit_result, case.revisit_at = result, utcnow()
        _event(case, "revisited", actor)
        if result == "unsatisfied":
            cases.audit(actor, "feedback.revisited", case, result=result)
            _move_up(case, actor=actor, reason="unsatisfied")
        else:
            case.state, case.closed_at = "closed", utcnow()
            case.closed_in_time = in_time(case, result)
            _event(case, "closed", actor)
            _tell(case, "您反映的问题已办结", "感谢您的反馈，您反映的问题已办结。", "已办结")
            cases.audit(actor, "feedback.closed", case, result=result, in_time=case.closed_in_time)
    return case


def in_time(case, result):
    """Resolved (the last time) by the first deadline, and the veteran confirmed it (satisfied)."""
    resolved_on = today_cst(case.resolved_at) if case.resolved_at is not None else today_cst()
    return result == "satisfied" and resolved_on <= case.first_due_on


def _tell(case, title, body, result):
    notify(
        "feedback.case",
        [case.veteran_id],
        title=title,
        body=body,
        link=cases.LINK,
        values={"结果": result},
        sender_unit_id=case.unit_id,
    )


def _move_up(case, *, actor=None, reason):
    """The next unit up handles the case with a new deadline; at the root an unsatisfied case is reopened there."""
    parent = db.session.scalar(select(OrgUnit.parent_id).where(OrgUnit.id == case.unit_id))
    from_unit = case.unit_id
    case.state, case.assignee_id = "open", None
    case.due_on = rules.add_working_days(today_cst(), rules.due_days())
    if parent is None:
        _event(case, "reopened", actor, from_unit_id=from_unit, to_unit_id=from_unit)
        cases.audit(actor or SystemActor(), "feedback.reopened", case, reason=reason)
        return case
    case.unit_id, case.escalations = parent, case.escalations + 1
    _event(case, "escalated", actor, from_unit_id=from_unit, to_unit_id=parent)
    _tell(case, "您反映的问题已转上级督办", "您反映的问题已转交上级单位督办，将尽快与您联系。", "已转上级督办")
    cases.audit(actor or SystemActor(), "feedback.escalated", case, reason=reason, from_unit_id=from_unit)
    return case


def escalate_overdue(*, today=None, batch=200):
    """Open or contacted cases past due_on move one unit up (not above the root). Idempotent: a moved case has a new
    due date. Keyset over the (state, due_on) index in batches, one transaction each. Returns how many moved."""
    today = today or today_cst()
    roots = select(OrgUnit.id).where(OrgUnit.parent_id.is_(None))
    moved, after = 0, 0
    while True:
        ids = db.session.scalars(
            select(FeedbackCase.id)
            .where(
                FeedbackCase.state.in_(cases.OPEN_STATES),
                FeedbackCase.due_on < today,
                FeedbackCase.unit_id.not_in(roots),
                FeedbackCase.id > after,
            )
            .order_by(FeedbackCase.id)
            .limit(batch)
        ).all()
        if not ids:
            return moved
        for case_id in ids:
            with transaction():
                case = db.session.scalars(
                    select(FeedbackCase).where(FeedbackCase.id == case_id).with_for_update()
                ).first()
                if case is None or case.state not in cases.OPEN_STATES or case.due_on >= today:
                    continue
                _move_up(case, reason="overdue")
                moved += 1
        after = ids[-1]
