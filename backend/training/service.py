"""Staff work (Art. 20, 21): the responsible office or person of each unit (明确专人) and training sessions with their
attendees. Centers (province, city, county) name an office and optionally a staff member as its head; stations name
a person, a staff account of that station or just a name. Grids name nobody. Scope by the unit; out of scope is
not found. Hours and figures: backend/training/figures.py.
"""

from decimal import Decimal, InvalidOperation

from sqlalchemy import select

from backend.audit import service as audit_service
from backend.counting import capped_count
from backend.db import transaction
from backend.errors import NotFound, RuleViolation, ValidationFailed
from backend.extensions import db
from backend.orgs.models import OrgUnit
from backend.orgs.scope import get_scoped, get_unit_in_scope, require_permission, scoped
from backend.staff.models import Staff
from backend.training.models import RESULTS, TRAINING_KINDS, TrainingAttendance, TrainingSession, UnitResponsible

CENTER_LEVELS = ("province", "city", "county")
RESPONSIBLE_LEVELS = (*CENTER_LEVELS, "station")
KIND_LABELS = {"political": "政治教育", "business": "业务培训", "drill": "岗位练兵"}
RESULT_LABELS = {"excellent": "优秀", "pass": "合格", "fail": "不合格", "absent": "缺勤"}


class SessionNotFound(NotFound):
    code = "training.session_not_found"
    message = "未找到该培训记录"


class AttendanceNotFound(NotFound):
    code = "training.attendance_not_found"
    message = "未找到该参训人员"


class AlreadyAttending(RuleViolation):
    code = "training.already_attending"
    message = "该工作人员已在本次培训名单中"


def _text(value, limit):
    return (value or "").strip()[:limit]


def _audit(actor, action, object_type, object_id, unit, **details):
    audit_service.record(
        actor=actor, action=action, object_type=object_type, object_id=object_id, org_path=unit.path, details=details
    )


def parse_hours(value):
    """ "3.5" -> 35 tenths of an hour (one decimal place, 0.1 to 40 hours)."""
    try:
        hours = Decimal((value or "").strip())
    except InvalidOperation:
        raise ValidationFailed(details={"hours": "学时应为数字，最多一位小数"}) from None
    tenths = hours * 10
    if not hours.is_finite() or tenths != tenths.to_integral_value() or not 1 <= tenths <= 400:
        raise ValidationFailed(details={"hours": "学时应在 0.1 至 40 之间，最多一位小数"})
    return int(tenths)


def hours_text(tenths):
    return f"{(tenths or 0) // 10}.{(tenths or 0) % 10}"


# --- responsible office / person


def _staff_of_subtree(unit, staff_id, field="staff"):
    staff = db.session.get(Staff, staff_id) if staff_id else None
    if staff is None or not staff.is_active:
        raise ValidationFailed(details={field: "请选择本单位（或下级）的工作人员"})
    staff_unit = db.session.get(OrgUnit, staff.org_unit_id)
    if not staff_unit.path.startswith(unit.path):
        raise ValidationFailed(details={field: "请选择本单位（或下级）的工作人员"})
    return staff


def set_responsible(*, actor, unit_id, office=None, staff_id=None, person_name=None, since=None):
    """Name the unit's responsible office (centers) or person (stations). Returns the row."""
    require_permission(actor, "training.manage")
    office, person_name = _text(office, 60) or None, _text(person_name, 64) or None
    with transaction():
        unit = get_unit_in_scope(actor, unit_id, lock=True)
        if unit.level not in RESPONSIBLE_LEVELS:
            raise ValidationFailed(details={"unit": "网格无须明确负责科室或专人"})
        if unit.level in CENTER_LEVELS and not office:
            raise ValidationFailed(details={"office": "请填写负责科室"})
        if unit.level == "station" and not (staff_id or person_name):
            raise ValidationFailed(details={"person": "请选择或填写负责人"})
        if staff_id:
            _staff_of_subtree(unit, staff_id)
        row = db.session.get(UnitResponsible, unit.id)
        if row is None:
            row = UnitResponsible(unit_id=unit.id)
            db.session.add(row)
        row.office = office if unit.level in CENTER_LEVELS else None
        row.staff_id, row.person_name, row.since, row.updated_by_id = staff_id, person_name, since, actor.id
        _audit(actor, "training.responsible_set", "org_unit", unit.id, unit, office=bool(office), staff_id=staff_id)
    return row


def clear_responsible(*, actor, unit_id):
    require_permission(actor, "training.manage")
    with transaction():
        unit = get_unit_in_scope(actor, unit_id, lock=True)
        row = db.session.get(UnitResponsible, unit.id)
        if row is not None:
            db.session.delete(row)
            _audit(actor, "training.responsible_cleared", "org_unit", unit.id, unit)
    return unit


def responsible_for(unit_ids):
    """{unit id: UnitResponsible} for the given units, one query (the org tree and the responsible page)."""
    unit_ids = list(unit_ids)
    if not unit_ids:
        return {}
    rows = db.session.scalars(select(UnitResponsible).where(UnitResponsible.unit_id.in_(unit_ids))).all()
    return {r.unit_id: r for r in rows}


def needs_responsible(unit):
    return unit.level in RESPONSIBLE_LEVELS


def list_responsible(*, actor, unit_id=None, missing_only=False, after=None, limit=50):
    """Units in scope (of `unit_id`'s subtree) above grid level in tree order, with their entries; keyset by path
    after the unit `after`. ([(unit, row or None)], next_after)."""
    require_permission(actor, "training.view")
    base = get_unit_in_scope(actor, unit_id) if unit_id else None
    query = scoped(select(OrgUnit).where(OrgUnit.level.in_(RESPONSIBLE_LEVELS)), actor, OrgUnit.id)
    if base is not None:
        query = query.where(OrgUnit.path.startswith(base.path, autoescape=True))
    if missing_only:
        query = query.where(~select(UnitResponsible.unit_id).where(UnitResponsible.unit_id == OrgUnit.id).exists())
    if after:
        last = db.session.scalar(select(OrgUnit.path).where(OrgUnit.id == after))
        if last:
            query = query.where(OrgUnit.path > last)
    units = db.session.scalars(query.order_by(OrgUnit.path).limit(limit + 1)).all()
    page = units[:limit]
    entries = responsible_for(u.id for u in page)
    return [(u, entries.get(u.id)) for u in page], page[-1].id if len(units) > limit else None


def count_missing_responsible(*, actor):
    """Units in scope (above grid level) with nobody responsible, capped."""
    query = scoped(select(OrgUnit.id).where(OrgUnit.level.in_(RESPONSIBLE_LEVELS)), actor, OrgUnit.id).where(
        ~select(UnitResponsible.unit_id).where(UnitResponsible.unit_id == OrgUnit.id).exists()
    )
    return capped_count(query)


def staff_names(ids):
    ids = {i for i in ids if i}
    if not ids:
        return {}
    return dict(db.session.execute(select(Staff.id, Staff.full_name).where(Staff.id.in_(ids))).all())


def staff_of_unit(unit, limit=300):
    """Active staff whose unit lies in `unit`'s subtree (choices for a session's attendees or a head)."""
    return db.session.scalars(
        select(Staff)
        .join(OrgUnit, OrgUnit.id == Staff.org_unit_id)
        .where(OrgUnit.path.startswith(unit.path, autoescape=True), Staff.is_active.is_(True))
        .order_by(Staff.full_name, Staff.id)
        .limit(limit)
    ).all()


# --- sessions


def create_session(*, actor, unit_id, kind, topic, held_on, hours_tenths, trainer=None):
    require_permission(actor, "training.manage")
    topic = _text(topic, 100)
    errors = {}
    if kind not in TRAINING_KINDS:
        errors["kind"] = "请选择培训类别"
    if not topic:
        errors["topic"] = "请填写培训主题"
    if errors:
        raise ValidationFailed(details=errors)
    with transaction():
        unit = get_unit_in_scope(actor, unit_id)
        if unit.level not in RESPONSIBLE_LEVELS:
            raise ValidationFailed(details={"unit": "请选择服务中心或服务站"})
        session = TrainingSession(
            unit_id=unit.id,
            kind=kind,
            topic=topic,
            held_on=held_on,
            hours_tenths=hours_tenths,
            trainer=_text(trainer, 64) or None,
            created_by_id=actor.id,
        )
        db.session.add(session)
        db.session.flush()
        _audit(actor, "training.session_created", "training_session", session.id, unit, kind=kind)
    return session


def get_session(*, actor, session_id, permission="training.view", lock=False):
    require_permission(actor, permission)
    return get_scoped(
        TrainingSession,
        session_id,
        actor=actor,
        unit_column=TrainingSession.unit_id,
        not_found=SessionNotFound,
        lock=lock,
    )


def list_sessions(*, actor, unit_id=None, year=None, before=None, limit=50):
    """Sessions in scope (of `unit_id`'s subtree), newest id first; (rows, next_before)."""
    require_permission(actor, "training.view")
    query = scoped(select(TrainingSession), actor, TrainingSession.unit_id)
    if unit_id:
        unit = get_unit_in_scope(actor, unit_id)
        query = query.where(
            TrainingSession.unit_id.in_(select(OrgUnit.id).where(OrgUnit.path.startswith(unit.path, autoescape=True)))
        )
    if year:
        from datetime import date

        query = query.where(TrainingSession.held_on >= date(year, 1, 1), TrainingSession.held_on <= date(year, 12, 31))
    if before:
        query = query.where(TrainingSession.id < before)
    rows = db.session.scalars(query.order_by(TrainingSession.id.desc()).limit(limit + 1)).all()
    return rows[:limit], rows[limit - 1].id if len(rows) > limit else None


def attendees_of(session_id):
    return db.session.execute(
        select(TrainingAttendance, Staff.full_name)
        .join(Staff, Staff.id == TrainingAttendance.staff_id)
        .where(TrainingAttendance.session_id == session_id)
        .order_by(TrainingAttendance.id)
    ).all()


def add_attendee(*, actor, session_id, staff_id, result="pass", score=None):
    """Add a staff member of the session unit's subtree (and the actor's scope) with the assessment result."""
    if result not in RESULTS:
        raise ValidationFailed(details={"result": "请选择考核结果"})
    if score is not None and not 0 <= score <= 100:
        raise ValidationFailed(details={"score": "成绩应在 0 至 100 之间"})
    if result == "absent":
        score = None
    with transaction():
        session = get_session(actor=actor, session_id=session_id, permission="training.manage", lock=True)
        unit = db.session.get(OrgUnit, session.unit_id)
        _staff_of_subtree(unit, staff_id)
        if db.session.scalar(
            select(TrainingAttendance.id).where(
                TrainingAttendance.session_id == session.id, TrainingAttendance.staff_id == staff_id
            )
        ):
            raise AlreadyAttending()
        row = TrainingAttendance(session_id=session.id, staff_id=staff_id, result=result, score=score)
        db.session.add(row)
        db.session.flush()
        _audit(actor, "training.attendee_added", "training_session", session.id, unit, staff_id=staff_id, result=result)
    return row


def remove_attendee(*, actor, session_id, attendance_id):
    with transaction():
        session = get_session(actor=actor, session_id=session_id, permission="training.manage", lock=True)
        row = db.session.get(TrainingAttendance, attendance_id)
        if row is None or row.session_id != session.id:
            raise AttendanceNotFound()
        db.session.delete(row)
        unit = db.session.get(OrgUnit, session.unit_id)
        _audit(actor, "training.attendee_removed", "training_session", session.id, unit, staff_id=row.staff_id)
    return session
