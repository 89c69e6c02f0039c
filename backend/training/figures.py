"""Training hours and figures (Art. 20, 21). Hours count for the attendee's unit (a county session attended by
station staff counts for the station's staff); an absent attendee earns none. A year is the session's held_on year.

Per unit: sessions held by units of the subtree, total hours of the subtree's staff, average hours per active staff
member. Each figure is one GROUP BY over the subtree, folded into the child unit whose path prefixes the row's unit.
"""

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import and_, func, select
from sqlalchemy.orm import aliased

from backend.extensions import db
from backend.orgs.models import OrgUnit
from backend.orgs.scope import get_unit_in_scope, require_permission
from backend.staff.models import Staff
from backend.training.models import TRAINING_KINDS, TrainingAttendance, TrainingSession


def _year_bounds(year):
    return TrainingSession.held_on >= date(year, 1, 1), TrainingSession.held_on <= date(year, 12, 31)


def _counted():
    return TrainingAttendance.result != "absent"


@dataclass
class UnitTraining:
    unit: OrgUnit
    sessions: int = 0
    hours_tenths: int = 0
    staff: int = 0
    by_kind: dict = field(default_factory=lambda: dict.fromkeys(TRAINING_KINDS, 0))

    @property
    def average_tenths(self):
        """Average hours per staff member in tenths, rounded half up; None with nobody to count."""
        return (self.hours_tenths * 2 + self.staff) // (self.staff * 2) if self.staff else None

    def as_dict(self):
        return {
            "unit_id": self.unit.id,
            "sessions": self.sessions,
            "hours_tenths": self.hours_tenths,
            "staff": self.staff,
            "average_tenths": self.average_tenths,
            "by_kind": dict(self.by_kind),
        }


def _fold(targets, unit, year):
    """{target id: UnitTraining} for the targets (units under `unit`), three grouped queries."""
    rows = {t.id: UnitTraining(unit=t) for t in targets}
    ids = list(rows)
    if not ids:
        return rows
    target = aliased(OrgUnit)
    where_unit = aliased(OrgUnit)
    in_subtree = OrgUnit.path.startswith(unit.path, autoescape=True)
    join_target = and_(target.id.in_(ids), where_unit.path.startswith(target.path))

    sessions = (
        select(target.id, func.count())
        .select_from(TrainingSession)
        .join(where_unit, where_unit.id == TrainingSession.unit_id)
        .join(target, join_target)
        .where(TrainingSession.unit_id.in_(select(OrgUnit.id).where(in_subtree)), *_year_bounds(year))
        .group_by(target.id)
    )
    for target_id, count in db.session.execute(sessions):
        rows[target_id].sessions = count

    hours = (
        select(target.id, TrainingSession.kind, func.sum(TrainingSession.hours_tenths))
        .select_from(TrainingAttendance)
        .join(TrainingSession, TrainingSession.id == TrainingAttendance.session_id)
        .join(Staff, Staff.id == TrainingAttendance.staff_id)
        .join(where_unit, where_unit.id == Staff.org_unit_id)
        .join(target, join_target)
        .where(_counted(), *_year_bounds(year), Staff.org_unit_id.in_(select(OrgUnit.id).where(in_subtree)))
        .group_by(target.id, TrainingSession.kind)
    )
    for target_id, kind, tenths in db.session.execute(hours):
        rows[target_id].by_kind[kind] = int(tenths or 0)
        rows[target_id].hours_tenths += int(tenths or 0)

    staff = (
        select(target.id, func.count())
        .select_from(Staff)
        .join(where_unit, where_unit.id == Staff.org_unit_id)
        .join(target, join_target)
        .where(Staff.is_active.is_(True), Staff.org_unit_id.in_(select(OrgUnit.id).where(in_subtree)))
        .group_by(target.id)
    )
    for target_id, count in db.session.execute(staff):
        rows[target_id].staff = count
    return rows


def unit_training_figures(actor, unit_id, year):
    """The unit's whole subtree for `year` as a dict: sessions, hours_tenths, staff, average_tenths, by_kind. For the
    assessment (issue 20). :raises PermissionDenied, OrgUnitNotFound (out of scope):"""
    require_permission(actor, "training.view")
    unit = get_unit_in_scope(actor, unit_id)
    return _fold([unit], unit, year)[unit.id].as_dict()


def children_figures(*, actor, unit_id, year):
    """(unit, [UnitTraining per child above grid level, or the station itself], UnitTraining of the whole unit)."""
    require_permission(actor, "training.view")
    unit = get_unit_in_scope(actor, unit_id)
    if unit.level in ("station", "grid"):
        targets = [unit]
    else:
        targets = db.session.scalars(
            select(OrgUnit).where(OrgUnit.parent_id == unit.id, OrgUnit.level != "grid").order_by(OrgUnit.name)
        ).all()
    rows = _fold(targets, unit, year)
    total = _fold([unit], unit, year)[unit.id]
    return unit, list(rows.values()), total


def staff_hours(*, actor, unit_id, year, after=None, limit=50):
    """Staff of the unit's subtree (in scope) by id with their hours in `year` by kind:
    ([(staff, unit name, {kind: tenths}, total tenths)], next_after)."""
    require_permission(actor, "training.view")
    unit = get_unit_in_scope(actor, unit_id)
    query = (
        select(Staff, OrgUnit.name)
        .join(OrgUnit, OrgUnit.id == Staff.org_unit_id)
        .where(OrgUnit.path.startswith(unit.path, autoescape=True), Staff.is_active.is_(True))
    )
    if after:
        query = query.where(Staff.id > after)
    page = db.session.execute(query.order_by(Staff.id).limit(limit + 1)).all()
    rows, more = page[:limit], len(page) > limit
    ids = [s.id for s, _ in rows]
    hours = {}
    if ids:
        grouped = (
            select(TrainingAttendance.staff_id, TrainingSession.kind, func.sum(TrainingSession.hours_tenths))
            .join(TrainingSession, TrainingSession.id == TrainingAttendance.session_id)
            .where(TrainingAttendance.staff_id.in_(ids), _counted(), *_year_bounds(year))
            .group_by(TrainingAttendance.staff_id, TrainingSession.kind)
        )
        for staff_id, kind, tenths in db.session.execute(grouped):
            hours.setdefault(staff_id, dict.fromkeys(TRAINING_KINDS, 0))[kind] = int(tenths or 0)
    result = []
    for staff, unit_name in rows:
        kinds = hours.get(staff.id, dict.fromkeys(TRAINING_KINDS, 0))
        result.append((staff, unit_name, kinds, sum(kinds.values())))
    return unit, result, rows[-1][0].id if more else None
