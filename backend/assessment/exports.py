"""The 考核评价 export kind: every unit of the subtree (down to the stations) × every indicator, this year against
last, with the score and the rank among siblings. Units are read in keyset batches by id; each batch reads its own
figures, its settings and its siblings' scores (for the rank), so memory stays flat however large the subtree."""

from sqlalchemy import select

from backend.assessment import scoring, service
from backend.assessment.indicators import INDICATORS
from backend.exports.registry import Source, export_kind
from backend.extensions import db
from backend.orgs.models import LEVEL_LABELS, OrgUnit
from backend.orgs.scope import get_unit_in_scope, require_permission

BATCH = 500


def header(year):
    columns = ["单位", "层级", "路径", f"{year}年得分", f"{year - 1}年得分", "同级排名", "同级单位数"]
    for indicator in INDICATORS:
        columns += [f"{indicator.label}（{year}）", f"{indicator.label}（{year - 1}）"]
    return columns


def _batches(unit):
    query = select(OrgUnit).where(OrgUnit.path.startswith(unit.path, autoescape=True), OrgUnit.level != "grid")
    last = None
    while True:
        page = query if last is None else query.where(OrgUnit.id > last)
        units = db.session.scalars(page.order_by(OrgUnit.id).limit(BATCH)).all()
        if not units:
            return
        yield units
        if len(units) < BATCH:
            return
        last = units[-1].id


def _sibling_ranks(units, year):
    """{unit_id: (rank, siblings)} for the batch, from one read of all their siblings."""
    parents = {u.parent_id for u in units if u.parent_id is not None}
    if not parents:
        return {}
    siblings = db.session.scalars(select(OrgUnit).where(OrgUnit.parent_id.in_(parents), OrgUnit.level != "grid")).all()
    scores = service.scores_of(siblings, year)
    result = {}
    for parent in parents:
        group = {u.id: scores[u.id] for u in siblings if u.parent_id == parent}
        ranks = scoring.rank({k: v for k, v in group.items() if v is not None})
        for unit_id in group:
            result[unit_id] = (ranks.get(unit_id), len(group))
    return result


def _rows(unit, year):
    for units in _batches(unit):
        found = service.figures([u.id for u in units], [year, year - 1])
        settings = service.settings_for_many(units)
        ranks = _sibling_ranks(units, year)
        for u in units:
            this, last = found.get((u.id, year)), found.get((u.id, year - 1))
            total = scoring.score(service.values_of(this), settings[u.id])[0] if this else None
            previous = scoring.score(service.values_of(last), settings[u.id])[0] if last else None
            position, count = ranks.get(u.id, (1 if this else None, 1))
            row = [u.name, LEVEL_LABELS.get(u.level, u.level), u.path, total, previous, position, count]
            for indicator in INDICATORS:
                for figures in (this, last):
                    figure = (figures or {}).get(indicator.code)
                    value = figure.value_permille if figure else None
                    row.append(service.format_value(indicator.code, value) if value is not None else None)
            yield row


@export_kind("assessment", permission="assessment.view", title="考核评价")
def assessment_export(actor, params):
    """The subtree of `unit` (default: the actor's) for `year`. :raises PermissionDenied, ValidationFailed,
    OrgUnitNotFound:"""
    require_permission(actor, "assessment.view")
    year = service.parse_year(params.get("year"))
    unit = get_unit_in_scope(actor, params.get("unit") or actor.org_unit_id)

    def count():
        return db.session.scalar(
            select(db.func.count())
            .select_from(OrgUnit)
            .where(OrgUnit.path.startswith(unit.path, autoescape=True), OrgUnit.level != "grid")
        )

    return Source(
        header=header(year), rows=_rows(unit, year), params={"year": year, "unit": unit.id}, unit_id=unit.id,
        count=count,
    )  # fmt: skip
