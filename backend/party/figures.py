"""Party figures and lists: members per unit (full, probationary), this year's evaluations against members, the
members list (keyset), and the members still without this year's evaluation (a capped count for the workbench).

Figures are one GROUP BY per table over the chosen unit's subtree (the station index), each station folded into the
child unit whose path prefixes its own: no query per unit.
"""

from dataclasses import dataclass, field

from sqlalchemy import and_, exists, func, select
from sqlalchemy.orm import aliased

from backend.counting import capped_count
from backend.extensions import db
from backend.orgs.models import OrgUnit
from backend.orgs.scope import get_unit_in_scope, require_permission, scoped
from backend.party.models import MEMBERSHIP, PartyEvaluation, PartyMembership
from backend.veterans.models import Veteran


@dataclass
class UnitFigures:
    unit: OrgUnit
    members: dict = field(default_factory=lambda: dict.fromkeys(MEMBERSHIP, 0))
    evaluated: int = 0

    @property
    def total(self):
        return sum(self.members.values())

    @property
    def missing(self):
        return max(self.total - self.evaluated, 0)


def _targets(unit):
    """The rows of the figures table: the unit's children above grid level, or the station itself."""
    if unit.level in ("station", "grid"):
        return [unit]
    return db.session.scalars(
        select(OrgUnit).where(OrgUnit.parent_id == unit.id, OrgUnit.level != "grid").order_by(OrgUnit.name)
    ).all()


def _grouped(model, unit, target_ids, *extra):
    """{(target id, *extra values): count} for rows of `model` (station_id) in the unit's subtree."""
    station, target = aliased(OrgUnit), aliased(OrgUnit)
    extra_cols = [getattr(model, name) for name in extra]
    query = (
        select(target.id, *extra_cols, func.count())
        .select_from(model)
        .join(station, station.id == model.station_id)
        .join(target, and_(target.id.in_(target_ids), station.path.startswith(target.path)))
        .where(model.station_id.in_(select(OrgUnit.id).where(OrgUnit.path.startswith(unit.path, autoescape=True))))
        .group_by(target.id, *extra_cols)
    )
    return query


def unit_figures(*, actor, unit_id, year):
    """(unit, [UnitFigures per child], UnitFigures of the whole unit) for `year`'s evaluations."""
    require_permission(actor, "party.view")
    unit = get_unit_in_scope(actor, unit_id)
    targets = _targets(unit)
    rows = {t.id: UnitFigures(unit=t) for t in targets}
    ids = list(rows)
    if ids:
        for target_id, status, count in db.session.execute(_grouped(PartyMembership, unit, ids, "status")):
            rows[target_id].members[status] = count
        query = _grouped(PartyEvaluation, unit, ids).where(PartyEvaluation.year == year)
        for target_id, count in db.session.execute(query):
            rows[target_id].evaluated = count
    total = UnitFigures(unit=unit)
    for row in rows.values():
        for status in MEMBERSHIP:
            total.members[status] += row.members[status]
        total.evaluated += row.evaluated
    return unit, list(rows.values()), total


def list_members(*, actor, unit_id=None, branch_id=None, status=None, missing_year=None, after=None, limit=50):
    """[(membership, veteran name)] of the members in scope, by veteran id; (rows, next_after). `missing_year`: only
    members without that year's evaluation."""
    require_permission(actor, "party.view")
    query = scoped(
        select(PartyMembership, Veteran.name).join(Veteran, Veteran.id == PartyMembership.veteran_id),
        actor,
        PartyMembership.station_id,
    )
    if unit_id:
        unit = get_unit_in_scope(actor, unit_id)
        query = query.where(
            PartyMembership.station_id.in_(
                select(OrgUnit.id).where(OrgUnit.path.startswith(unit.path, autoescape=True))
            )
        )
    if branch_id:
        query = query.where(PartyMembership.branch_id == branch_id)
    if status in MEMBERSHIP:
        query = query.where(PartyMembership.status == status)
    if missing_year:
        query = query.where(~_evaluated(missing_year))
    if after:
        query = query.where(PartyMembership.veteran_id > after)
    rows = db.session.execute(query.order_by(PartyMembership.veteran_id).limit(limit + 1)).all()
    return rows[:limit], rows[limit - 1][0].veteran_id if len(rows) > limit else None


def _evaluated(year):
    return exists().where(PartyEvaluation.veteran_id == PartyMembership.veteran_id, PartyEvaluation.year == year)


def _missing_query(actor, year):
    return scoped(select(PartyMembership.veteran_id).where(~_evaluated(year)), actor, PartyMembership.station_id)


def count_missing_evaluations(*, actor, year):
    """Members in scope without an evaluation for `year`, counted no further than the cap."""
    return capped_count(_missing_query(actor, year))
