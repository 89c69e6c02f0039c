"""Reads of the assessment figures: the dashboard of one unit and year, its children's ranking, the trend, the
subtree's treemap, the workbench card. Only org_unit, assessment_figure and assessment_setting are read (never the
source tables: the aggregation job has done that). Scope: the unit asked for must lie in the actor's subtree."""

from dataclasses import dataclass, field

from sqlalchemy import func, select

from backend.assessment import scoring
from backend.assessment.indicators import BY_CODE, INDICATORS
from backend.assessment.models import IndicatorSetting, UnitFigure
from backend.errors import ValidationFailed
from backend.extensions import db
from backend.orgs.models import OrgUnit
from backend.orgs.scope import get_unit_in_scope, require_permission
from backend.registration.windows import today_cst

TREND_YEARS = 5
TREEMAP_LEVELS = 2  # the subtree's treemap: the unit's children and grandchildren (bounded whatever the scope)
TREEMAP_LIMIT = 400


def parse_year(value):
    """The year asked for (default: this year, CST). :raises ValidationFailed:"""
    this_year = today_cst().year
    try:
        year = int(value) if value not in (None, "") else this_year
    except (TypeError, ValueError):
        year = None
    if year is None or not 2000 <= year <= this_year:
        raise ValidationFailed(details={"year": "考核年度不正确"})
    return year


def figures(unit_ids, years):
    """{(unit_id, year): {code: UnitFigure}} by the unique key's index."""
    found = {}
    if not unit_ids:
        return found
    columns = (UnitFigure.unit_id, UnitFigure.year, UnitFigure.code, UnitFigure.numerator, UnitFigure.denominator)
    query = select(*columns, UnitFigure.value_permille).where(
        UnitFigure.unit_id.in_(list(unit_ids)), UnitFigure.year.in_(list(years))
    )  # plain rows, no timestamps to convert: the treemap reads a few thousand
    for row in db.session.execute(query):
        found.setdefault((row.unit_id, row.year), {})[row.code] = row
    return found


def computed_at(unit, year):
    """When the unit's figures of `year` were last written, or None."""
    return db.session.scalar(
        select(func.max(UnitFigure.computed_at)).where(UnitFigure.unit_id == unit.id, UnitFigure.year == year)
    )


def values_of(rows):
    return {code: row.value_permille for code, row in (rows or {}).items()}


def settings_for_many(units):
    """{unit_id: {code: Setting}} with one read of the settings along every unit's ancestor chain."""
    chains = {u.id: scoring.scoring_chain(u) for u in units}  # strict ancestors: a unit never scores itself
    ids = {i for chain in chains.values() for i in chain}
    rows = db.session.scalars(select(IndicatorSetting).where(IndicatorSetting.unit_id.in_(ids))).all() if ids else []
    by_unit = {}
    for row in rows:
        by_unit.setdefault(row.unit_id, []).append(row)
    result = {}
    for unit_id, chain in chains.items():
        settings = {i.code: scoring.Setting(i.code, i.default_weight, i.default_target) for i in INDICATORS}
        for ancestor in chain:  # root first: deeper rows override
            for row in by_unit.get(ancestor, ()):
                if row.code in settings:
                    settings[row.code] = scoring.Setting(
                        row.code, row.weight, row.target_permille, row.enabled, row.unit_id
                    )
        result[unit_id] = settings
    return result


def scores_of(units, year):
    """{unit_id: score or None (no figures yet)} of `units` for `year`."""
    found, settings = figures([u.id for u in units], [year]), settings_for_many(units)
    return {
        u.id: scoring.score(values_of(found[(u.id, year)]), settings[u.id])[0] if (u.id, year) in found else None
        for u in units
    }


def ranked(units, year):
    """[(unit, score, rank)] of sibling `units`, best first (units without figures last, unranked)."""
    scores = scores_of(units, year)
    ranks = scoring.rank({k: v for k, v in scores.items() if v is not None})
    rows = [(u, scores[u.id], ranks.get(u.id)) for u in units]
    return sorted(rows, key=lambda r: (r[2] is None, r[2] or 0, r[0].name))


def children_of(unit):
    return db.session.scalars(
        select(OrgUnit).where(OrgUnit.parent_id == unit.id, OrgUnit.level != "grid").order_by(OrgUnit.name)
    ).all()


def sibling_rank(unit, year):
    """(rank, number of siblings) of `unit` among its parent's children, or (None, n) without figures."""
    if unit.parent_id is None:
        return None, 1
    siblings = db.session.scalars(
        select(OrgUnit).where(OrgUnit.parent_id == unit.parent_id, OrgUnit.level != "grid")
    ).all()
    for sibling, _, position in ranked(siblings, year):
        if sibling.id == unit.id:
            return position, len(siblings)
    return None, len(siblings)


@dataclass
class Row:
    indicator: object
    value: int | None
    previous: int | None
    line: scoring.Line
    numerator: int = 0
    denominator: int = 0


@dataclass
class Dashboard:
    unit: OrgUnit
    year: int
    rows: list
    score: float | None
    previous_score: float | None
    rank: int | None
    siblings: int
    children: list = field(default_factory=list)  # [(unit, score, rank)]
    trend: list = field(default_factory=list)  # [(year, score or None)]
    computed_at: object = None
    weights_total: int = 0


def dashboard(*, actor, unit_id=None, year=None):
    """The dashboard of a unit in the actor's subtree (default: the actor's unit). :raises OrgUnitNotFound,
    ValidationFailed, PermissionDenied:"""
    require_permission(actor, "assessment.view")
    year = parse_year(year)
    unit = get_unit_in_scope(actor, unit_id or actor.org_unit_id)
    years = list(range(year - TREND_YEARS + 1, year + 1))
    found = figures([unit.id], years)
    settings = settings_for_many([unit])[unit.id]
    this, last = found.get((unit.id, year)), found.get((unit.id, year - 1))
    total, lines = scoring.score(values_of(this), settings)
    previous = scoring.score(values_of(last), settings)[0] if last else None
    rows = []
    for indicator, line in zip(INDICATORS, lines, strict=True):
        figure = (this or {}).get(indicator.code)
        rows.append(
            Row(indicator, line.value, ((last or {}).get(indicator.code) or _NONE).value_permille, line,
                figure.numerator if figure else 0, figure.denominator if figure else 0)
        )  # fmt: skip
    trend = [(y, scoring.score(values_of(found[(unit.id, y)]), settings)[0] if (unit.id, y) in found else None)
             for y in years]  # fmt: skip
    position, siblings = sibling_rank(unit, year)
    return Dashboard(
        unit=unit,
        year=year,
        rows=rows,
        score=total if this else None,
        previous_score=previous,
        rank=position,
        siblings=siblings,
        children=ranked(children_of(unit), year),
        trend=trend,
        computed_at=computed_at(unit, year) if this else None,
        weights_total=sum(s.weight for s in settings.values() if s.enabled),
    )


class _None:
    value_permille = None


_NONE = _None()


def treemap(unit, year):
    """[(OrgUnit, score)] of the unit's subtree down TREEMAP_LEVELS levels (no grids), by path (bounded)."""
    units = db.session.scalars(
        select(OrgUnit)
        .where(
            OrgUnit.path.startswith(unit.path, autoescape=True),
            OrgUnit.depth > unit.depth,
            OrgUnit.depth <= unit.depth + TREEMAP_LEVELS,
            OrgUnit.level != "grid",
        )
        .order_by(OrgUnit.path)
        .limit(TREEMAP_LIMIT)
    ).all()
    scores = scores_of(units, year)
    return [(u, scores[u.id]) for u in units]


def card(actor):
    """(unit, year, score, rank, siblings) of the actor's own unit this year (a few primary-key reads)."""
    unit = db.session.get(OrgUnit, actor.org_unit_id)
    year = today_cst().year
    found = figures([unit.id], [year])
    if (unit.id, year) not in found:
        return unit, year, None, None, 0
    total = scoring.score(values_of(found[(unit.id, year)]), settings_for_many([unit])[unit.id])[0]
    position, siblings = sibling_rank(unit, year)
    return unit, year, total, position, siblings


def picker_units(actor):
    """The unit picker: the actor's subtree down to the stations, by path (at most 500)."""
    return db.session.scalars(
        select(OrgUnit)
        .where(OrgUnit.path.startswith(actor.scope_path, autoescape=True), OrgUnit.level != "grid")
        .order_by(OrgUnit.path)
        .limit(500)
    ).all()


def computed_years(unit):
    return sorted(
        {y for (y,) in db.session.execute(select(func.distinct(UnitFigure.year)).where(UnitFigure.unit_id == unit.id))}
    )


def format_value(code, value):
    """A value ×1000 as shown: 95.2 %, 3.5 小时, 12.0 次, or 「—」."""
    if value is None:
        return "—"
    indicator = BY_CODE[code]
    if indicator.measure == "rate":
        return f"{value / 10:.1f}%"
    return f"{value / 1000:.1f} {indicator.unit_label}"
