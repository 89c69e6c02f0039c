"""Employment figures per unit (the children of a chosen unit in scope) and the workbench's count.

Employment rate = (employed + self-employed) / (veterans with a current status other than retired), over the
veterans that have a current employment record (until IS NULL); a unit with nobody in the denominator shows "—".
Support given counts this calendar year's supports (given_on) by kind, and how many of them succeeded.

Each figure is one GROUP BY over the unit's subtree (rows carry station_id), each station folded into the child unit
whose path prefixes its own: no query per unit.
"""

from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import and_, exists, func, select
from sqlalchemy.orm import aliased

from backend.counting import capped_count
from backend.employment.models import STATUSES, SUPPORT_KINDS, EmploymentRecord, EmploymentSupport
from backend.extensions import db
from backend.orgs.models import OrgUnit
from backend.orgs.scope import get_unit_in_scope, require_permission, scoped

NO_SUPPORT_DAYS = 183  # "no support in the last 6 months"


@dataclass
class UnitFigures:
    unit: OrgUnit
    statuses: dict = field(default_factory=lambda: dict.fromkeys(STATUSES, 0))
    supports: dict = field(default_factory=lambda: dict.fromkeys(SUPPORT_KINDS, 0))
    succeeded: int = 0

    @property
    def with_record(self):
        return sum(self.statuses.values())

    @property
    def working(self):
        return self.statuses["employed"] + self.statuses["self_employed"]

    @property
    def labour_force(self):
        return self.with_record - self.statuses["retired"]

    @property
    def rate(self):
        """Percent with one decimal, or None when nobody has a status other than retired."""
        return round(100 * self.working / self.labour_force, 1) if self.labour_force else None

    @property
    def support_total(self):
        return sum(self.supports.values())

    def add(self, other):
        for key, value in other.statuses.items():
            self.statuses[key] += value
        for key, value in other.supports.items():
            self.supports[key] += value
        self.succeeded += other.succeeded


def _targets(unit):
    if unit.level in ("station", "grid"):
        return [unit]
    return db.session.scalars(
        select(OrgUnit).where(OrgUnit.parent_id == unit.id, OrgUnit.level != "grid").order_by(OrgUnit.name)
    ).all()


def _grouped(model, unit, target_ids, *columns):
    station, target = aliased(OrgUnit), aliased(OrgUnit)
    return (
        select(target.id, *columns, func.count())
        .select_from(model)
        .join(station, station.id == model.station_id)
        .join(target, and_(target.id.in_(target_ids), station.path.startswith(target.path)))
        .where(model.station_id.in_(select(OrgUnit.id).where(OrgUnit.path.startswith(unit.path, autoescape=True))))
        .group_by(target.id, *columns)
    )


def unit_figures(*, actor, unit_id, year):
    """(unit, [UnitFigures per child], UnitFigures of the whole unit)."""
    require_permission(actor, "employment.view")
    unit = get_unit_in_scope(actor, unit_id)
    rows = {t.id: UnitFigures(unit=t) for t in _targets(unit)}
    ids = list(rows)
    if ids:
        current = _grouped(EmploymentRecord, unit, ids, EmploymentRecord.status).where(EmploymentRecord.until.is_(None))
        for target_id, status, count in db.session.execute(current):
            rows[target_id].statuses[status] = count
        given = _grouped(EmploymentSupport, unit, ids, EmploymentSupport.kind, EmploymentSupport.outcome).where(
            EmploymentSupport.given_on >= date(year, 1, 1), EmploymentSupport.given_on <= date(year, 12, 31)
        )
        for target_id, kind, outcome, count in db.session.execute(given):
            rows[target_id].supports[kind] += count
            if outcome == "succeeded":
                rows[target_id].succeeded += count
    total = UnitFigures(unit=unit)
    for row in rows.values():
        total.add(row)
    return unit, list(rows.values()), total


def unemployed_without_support(actor, today):
    """A SELECT of current unemployed records in scope whose veteran got no support in the last 6 months."""
    recent = exists().where(
        EmploymentSupport.veteran_id == EmploymentRecord.veteran_id,
        EmploymentSupport.given_on >= today - timedelta(days=NO_SUPPORT_DAYS),
    )
    query = select(EmploymentRecord.id).where(
        EmploymentRecord.until.is_(None), EmploymentRecord.status == "unemployed", ~recent
    )
    return scoped(query, actor, EmploymentRecord.station_id)


def count_unemployed_without_support(*, actor, today, cap=1000):
    return capped_count(unemployed_without_support(actor, today), cap=cap)


def list_unemployed_without_support(*, actor, today, after=None, limit=50):
    """[(EmploymentRecord, Veteran)] by record id (keyset). :returns: (rows, next_after)"""
    from backend.veterans.models import Veteran

    require_permission(actor, "employment.view")
    ids = unemployed_without_support(actor, today)
    query = (
        select(EmploymentRecord, Veteran)
        .join(Veteran, Veteran.id == EmploymentRecord.veteran_id)
        .where(EmploymentRecord.id.in_(ids))
    )
    if after:
        query = query.where(EmploymentRecord.id > after)
    rows = db.session.execute(query.order_by(EmploymentRecord.id).limit(limit + 1)).all()
    return rows[:limit], (rows[limit - 1][0].id if len(rows) > limit else None)
