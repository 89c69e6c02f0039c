"""The reception one-stop (接收安置, Art. 7): opening a case (for a veteran in the registry, or registering the veteran
in the same step), the reads of staff and of the veteran's phone, the overdue steps. Step changes, coordination,
closing: backend/onboarding/steps.py; proof files: backend/onboarding/attachments.py.

Every list, detail and write is scoped to the case's station (backend/orgs/scope); outside the scope is not-found.
"""

import re
from datetime import date, timedelta

from flask import current_app
from sqlalchemy import exists, select

from backend.audit import service as audit_service
from backend.counting import capped_count
from backend.db import transaction
from backend.errors import ValidationFailed
from backend.extensions import db
from backend.onboarding.models import STEPS, OnboardingAttachment, OnboardingCase, OnboardingEvent, OnboardingStep
from backend.onboarding.rules import AlreadyOpen, CaseNotFound
from backend.orgs.models import OrgUnit
from backend.orgs.scope import get_scoped, require_permission, scoped
from backend.registration.windows import today_cst
from backend.staff.models import Staff
from backend.veterans import service as veterans_service
from backend.veterans.models import Veteran
from backend.veterans.service import VeteranNotFound

NOTICE_MAX = 64
EARLIEST_YEAR = 1950  # dates typed into the case (arrival, notice, coordination) are never earlier
OPEN_STATES = ("pending", "in_progress")


def audit(actor, action, case, **details):
    path = db.session.scalar(select(OrgUnit.path).where(OrgUnit.id == case.station_id))
    audit_service.record(
        actor=actor, action=action, object_type="onboarding_case", object_id=case.id, org_path=path, details=details
    )


def _clean_case_fields(arrived_on, notice_number, notice_date):
    errors = {}
    today = today_cst()
    if not isinstance(arrived_on, date):
        errors["arrived_on"] = "请填写报到（到达）日期"
    elif arrived_on.year < EARLIEST_YEAR:
        errors["arrived_on"] = f"到达日期不正确（不早于{EARLIEST_YEAR}年）"
    elif arrived_on > today:
        errors["arrived_on"] = "到达日期不能晚于今天"
    notice_number = (notice_number or "").strip() or None
    if notice_number and len(notice_number) > NOTICE_MAX:
        errors["notice_number"] = f"安置通知书编号不超过{NOTICE_MAX}个字"
    if notice_date is not None and not isinstance(notice_date, date):
        errors["notice_date"] = "通知书日期格式不正确，请按“年-月-日”填写"
    elif notice_date is not None and notice_date.year < EARLIEST_YEAR:
        errors["notice_date"] = f"通知书日期不正确（不早于{EARLIEST_YEAR}年）"
    elif notice_date is not None and notice_date > today:
        errors["notice_date"] = "通知书日期不能晚于今天"
    if errors:
        raise ValidationFailed(details=errors)
    return notice_number


def _new_case(actor, veteran, *, arrived_on, notice_number, notice_date):
    if db.session.scalar(select(OnboardingCase.id).where(OnboardingCase.veteran_id == veteran.id)):
        raise AlreadyOpen(details={"veteran_id": veteran.id})
    case = OnboardingCase(
        veteran_id=veteran.id,
        station_id=veteran.station_id,
        status="open",
        notice_number=notice_number,
        notice_date=notice_date,
        arrived_on=arrived_on,
        party_member=bool(veteran.party_member),
        opened_by_id=actor.id,
    )
    db.session.add(case)
    db.session.flush()
    days = current_app.config["ONBOARDING_STEP_DUE_DAYS"]
    for code in STEPS:
        applies = code != "party_transfer" or case.party_member
        db.session.add(
            OnboardingStep(
                case_id=case.id,
                station_id=case.station_id,
                step=code,
                required=applies,
                state="pending" if applies else "not_applicable",
                due_on=arrived_on + timedelta(days=days.get(code, 30)) if applies else None,
            )
        )
    db.session.add(OnboardingEvent(case_id=case.id, action="opened", staff_id=actor.id))
    db.session.flush()
    audit(actor, "onboarding.opened", case, veteran_id=veteran.id, party_member=case.party_member)
    return case


def open_case(*, actor, veteran_id, arrived_on, notice_number=None, notice_date=None):
    """Open the onboarding case of a veteran in scope: all nine steps, party transfer only for party members.

    :raises PermissionDenied, VeteranNotFound, ValidationFailed, AlreadyOpen:
    """
    require_permission(actor, "onboarding.manage")
    notice_number = _clean_case_fields(arrived_on, notice_number, notice_date)
    with transaction():
        veteran = get_scoped(
            Veteran, veteran_id, actor=actor, unit_column=Veteran.unit_id, not_found=VeteranNotFound, lock=True
        )
        return _new_case(actor, veteran, arrived_on=arrived_on, notice_number=notice_number, notice_date=notice_date)


def open_case_for_new_veteran(
    *, actor, veteran_fields, station_id, grid_id=None, arrived_on, notice_number=None, notice_date=None
):
    """Register the veteran (the registry's checks: ID number, duplicates, scope) and open their case, in one step.

    :raises PermissionDenied, ValidationFailed (InvalidIdNumber, InvalidUnit, ...), IdNumberTaken:
    """
    require_permission(actor, "onboarding.manage")
    require_permission(actor, "veterans.edit")
    notice_number = _clean_case_fields(arrived_on, notice_number, notice_date)
    fields = dict(veteran_fields)
    fields.setdefault("placement_date", arrived_on)
    fields["status"] = "active"
    with transaction():
        veteran = veterans_service.build_veteran(actor=actor, fields=fields, station_id=station_id, grid_id=grid_id)
        audit_service.record(actor=actor, action="veterans.create", object_type="veteran", object_id=veteran.id)
        return _new_case(actor, veteran, arrived_on=arrived_on, notice_number=notice_number, notice_date=notice_date)


# --- staff reads


def get_case(*, actor, case_id, permission="onboarding.view", lock=False):
    """A case of a station in the actor's scope. :raises PermissionDenied, CaseNotFound:"""
    require_permission(actor, permission)
    return get_scoped(
        OnboardingCase, case_id, actor=actor, unit_column=OnboardingCase.station_id, not_found=CaseNotFound, lock=lock
    )


def steps_of(case_id):
    """The case's steps in checklist order."""
    rows = db.session.scalars(select(OnboardingStep).where(OnboardingStep.case_id == case_id)).all()
    return sorted(rows, key=lambda s: STEPS.index(s.step))


def events_of(case_id):
    return db.session.scalars(
        select(OnboardingEvent).where(OnboardingEvent.case_id == case_id).order_by(OnboardingEvent.id)
    ).all()


def attachments_by_step(case_id):
    """{step_id: [OnboardingAttachment, ...]} of a case."""
    rows = db.session.scalars(
        select(OnboardingAttachment)
        .join(OnboardingStep, OnboardingStep.id == OnboardingAttachment.step_id)
        .where(OnboardingStep.case_id == case_id)
        .order_by(OnboardingAttachment.id)
    ).all()
    out = {}
    for row in rows:
        out.setdefault(row.step_id, []).append(row)
    return out


def is_overdue(item, today=None):
    return item.due_on is not None and item.state in OPEN_STATES and item.due_on < (today or today_cst())


def _overdue_steps(today):
    return (
        select(OnboardingStep.id)
        .join(OnboardingCase, OnboardingCase.id == OnboardingStep.case_id)
        .where(
            OnboardingCase.status == "open",
            OnboardingStep.state.in_(OPEN_STATES),
            OnboardingStep.due_on < today,
        )
    )


def list_cases(*, actor, status="open", station_id=None, overdue=False, before=None, limit=50):
    """Cases in the actor's scope, newest first, keyset by id: (rows, next_before)."""
    require_permission(actor, "onboarding.view")
    query = scoped(select(OnboardingCase), actor, OnboardingCase.station_id)
    if status in ("open", "closed"):
        query = query.where(OnboardingCase.status == status)
    if station_id:
        query = query.where(OnboardingCase.station_id == station_id)
    if overdue:
        late = (
            select(OnboardingStep.id)
            .where(
                OnboardingStep.case_id == OnboardingCase.id,
                OnboardingStep.state.in_(OPEN_STATES),
                OnboardingStep.due_on < today_cst(),
            )
            .correlate(OnboardingCase)
        )
        query = query.where(OnboardingCase.status == "open", exists(late))
    if before:
        query = query.where(OnboardingCase.id < before)
    rows = db.session.scalars(query.order_by(OnboardingCase.id.desc()).limit(limit + 1)).all()
    return rows[:limit], (rows[limit - 1].id if len(rows) > limit else None)


def progress(case_ids):
    """{case_id: (done, required)} for a page of cases."""
    out = {cid: [0, 0] for cid in case_ids}
    rows = db.session.execute(
        select(OnboardingStep.case_id, OnboardingStep.state).where(
            OnboardingStep.case_id.in_(case_ids), OnboardingStep.required.is_(True)
        )
    ).all()
    for case_id, state in rows:
        out[case_id][1] += 1
        out[case_id][0] += state == "done"
    return {k: tuple(v) for k, v in out.items()}


def count_overdue_steps(*, actor):
    """Overdue steps of open cases in the actor's scope, capped (backend/counting.py)."""
    require_permission(actor, "onboarding.view")
    return capped_count(scoped(_overdue_steps(today_cst()), actor, OnboardingStep.station_id))


def names(rows):
    """{veteran_id: name}, {station_id: name} for a page of cases."""
    veteran_ids = {r.veteran_id for r in rows}
    station_ids = {r.station_id for r in rows}
    veterans = dict(db.session.execute(select(Veteran.id, Veteran.name).where(Veteran.id.in_(veteran_ids))).all())
    stations = dict(db.session.execute(select(OrgUnit.id, OrgUnit.name).where(OrgUnit.id.in_(station_ids))).all())
    return veterans, stations


def staff_names(ids):
    ids = {i for i in ids if i}
    return dict(db.session.execute(select(Staff.id, Staff.full_name).where(Staff.id.in_(ids))).all())


def case_of_veteran(veteran_id):
    """The veteran's case or None (the caller has checked the veteran is in scope, or it is the veteran)."""
    return db.session.scalars(select(OnboardingCase).where(OnboardingCase.veteran_id == veteran_id)).first()


def find_veterans(*, actor, query, limit=20):
    """Active veterans in scope whose name starts with `query`, or whose ID number is `query`."""
    require_permission(actor, "onboarding.manage")
    query = (query or "").strip()[:64]
    if not query:
        return []
    if re.fullmatch(r"\d{17}[\dXx]", query):
        condition = Veteran.id_number_hmac == veterans_service.id_index(query.upper())
    else:
        condition = Veteran.name.startswith(query, autoescape=True)
    base = scoped(select(Veteran).where(condition, Veteran.status == "active"), actor, Veteran.unit_id)
    return db.session.scalars(base.order_by(Veteran.name, Veteran.id).limit(limit)).all()
