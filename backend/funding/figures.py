"""经费统计 (Art. 22): money given at visits (走访慰问) and assistance paid (帮扶援助) in one budget year, summed by
funding source (central / local), station and purpose, within the viewer's scope.

Sums come from aggregate SQL (GROUP BY station, source, purpose), never from loading rows; the few aggregated lines
are then rolled up to the chosen unit's children in Python. Amounts stay integers in fen until shown: yuan() prints
them with two decimals exactly, yuan_decimal() hands the export an exact Decimal.
"""

from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import func, select

from backend.assistance.models import AssistanceCase
from backend.assistance.rules import CATEGORY_LABELS
from backend.errors import ValidationFailed
from backend.extensions import db
from backend.orgs.models import OrgUnit
from backend.orgs.scope import get_unit_in_scope, require_permission
from backend.registration.windows import today_cst
from backend.visits.models import Visit, VisitCampaign

SOURCES = {"central": "中央资金", "local": "地方资金"}
KINDS = {"visit": "走访慰问", "assistance": "帮扶援助"}
PAID = ("paid", "closed")  # assistance counted once the money went out


def yuan(fen):
    """「1234.56」 from 123456 fen, exactly (no float on the way)."""
    fen = int(fen or 0)
    sign, fen = ("-", -fen) if fen < 0 else ("", fen)
    return f"{sign}{fen // 100}.{fen % 100:02d}"


def yuan_decimal(fen):
    return Decimal(int(fen or 0)).scaleb(-2)


def parse_year(value):
    """The budget year asked for (default: this year in China Standard Time). :raises ValidationFailed:"""
    this_year = today_cst().year
    try:
        year = int(value) if value not in (None, "") else this_year
    except (TypeError, ValueError):
        year = None
    if year is None or not 2000 <= year <= this_year + 1:
        raise ValidationFailed(details={"year": "预算年度不正确"})
    return year


@dataclass
class Line:
    """One aggregated line: a station's spending of one kind and purpose from one source."""

    station_id: int
    station_name: str
    station_path: str
    source: str
    kind: str
    purpose: str
    count: int
    amount_fen: int

    @property
    def source_label(self):
        return SOURCES.get(self.source, self.source)

    @property
    def kind_label(self):
        return KINDS[self.kind]


@dataclass
class Sums:
    """Fen by source for one row of a table (a unit, a purpose, the total)."""

    label: str
    key: object = None
    count: int = 0
    by_source: dict = field(default_factory=lambda: dict.fromkeys(SOURCES, 0))

    def add(self, line):
        self.count += line.count
        self.by_source[line.source] = self.by_source.get(line.source, 0) + line.amount_fen

    @property
    def total_fen(self):
        return sum(self.by_source.values())


@dataclass
class Report:
    unit: object
    year: int
    lines: list
    total: Sums
    by_unit: list
    by_purpose: list


def _visit_lines(path, year):
    query = (
        select(
            Visit.station_id,
            OrgUnit.name,
            OrgUnit.path,
            Visit.funding_source,
            VisitCampaign.name,
            func.count(),
            func.sum(Visit.amount_fen),
        )
        .join(OrgUnit, OrgUnit.id == Visit.station_id)
        .join(VisitCampaign, VisitCampaign.id == Visit.campaign_id)
        .where(
            OrgUnit.path.startswith(path, autoescape=True),
            Visit.budget_year == year,
            Visit.status == "done",
            Visit.amount_fen > 0,
            Visit.funding_source.is_not(None),
        )
        .group_by(Visit.station_id, OrgUnit.name, OrgUnit.path, Visit.funding_source, VisitCampaign.name)
    )
    for station_id, name, unit_path, source, purpose, count, fen in db.session.execute(query):
        yield Line(station_id, name, unit_path, source, "visit", purpose, int(count), int(fen or 0))


def _assistance_lines(path, year):
    query = (
        select(
            AssistanceCase.station_id,
            OrgUnit.name,
            OrgUnit.path,
            AssistanceCase.funding_source,
            AssistanceCase.category,
            func.count(),
            func.sum(AssistanceCase.paid_amount_fen),
        )
        .join(OrgUnit, OrgUnit.id == AssistanceCase.station_id)
        .where(
            OrgUnit.path.startswith(path, autoescape=True),
            AssistanceCase.budget_year == year,
            AssistanceCase.status.in_(PAID),
            AssistanceCase.paid_amount_fen.is_not(None),
            AssistanceCase.funding_source.is_not(None),
        )
        .group_by(
            AssistanceCase.station_id,
            OrgUnit.name,
            OrgUnit.path,
            AssistanceCase.funding_source,
            AssistanceCase.category,
        )
    )
    for station_id, name, unit_path, source, category, count, fen in db.session.execute(query):
        label = CATEGORY_LABELS.get(category, category)
        yield Line(station_id, name, unit_path, source, "assistance", label, int(count), int(fen or 0))


def picker_units(actor):
    """The unit picker: the actor's subtree down to the stations, by path (at most 500)."""
    return db.session.scalars(
        select(OrgUnit)
        .where(OrgUnit.path.startswith(actor.scope_path, autoescape=True), OrgUnit.level != "grid")
        .order_by(OrgUnit.path)
        .limit(500)
    ).all()


def funding_lines(unit, year):
    """The aggregated lines of the unit's subtree for a budget year, by station path, kind, purpose and source.

    :returns: [Line]
    """
    lines = [*_visit_lines(unit.path, year), *_assistance_lines(unit.path, year)]
    order = {k: i for i, k in enumerate(KINDS)}
    lines.sort(key=lambda ln: (ln.station_path, order[ln.kind], ln.purpose, ln.source))
    return lines


def funding_report(*, actor, year=None, unit_id=None):
    """经费统计 of a unit in scope (default: the actor's own) for a budget year.

    :returns: Report with the lines, the total by source, one row per child unit (or per station when the unit is a
        station) and one per purpose.
    :raises PermissionDenied, OrgUnitNotFound, ValidationFailed:
    """
    require_permission(actor, "funding.view")
    year = parse_year(year)
    unit = get_unit_in_scope(actor, unit_id or actor.org_unit_id)
    lines = funding_lines(unit, year)
    children = db.session.scalars(select(OrgUnit).where(OrgUnit.parent_id == unit.id).order_by(OrgUnit.path)).all()
    by_unit = {c.path: Sums(c.name, key=c.id) for c in children} if unit.level != "station" else {}
    by_purpose, total = {}, Sums("合计")
    for line in lines:
        total.add(line)
        owner = next((p for p in by_unit if line.station_path.startswith(p)), None)
        if owner is None:  # a station itself (or spending booked on the unit itself)
            owner = unit.path
            by_unit.setdefault(owner, Sums(unit.name, key=unit.id))
        by_unit[owner].add(line)
        key = (line.kind, line.purpose)
        by_purpose.setdefault(key, Sums(f"{line.kind_label}：{line.purpose}", key=key)).add(line)
    return Report(
        unit=unit,
        year=year,
        lines=lines,
        total=total,
        by_unit=list(by_unit.values()),
        by_purpose=[by_purpose[k] for k in sorted(by_purpose, key=lambda k: (list(KINDS).index(k[0]), k[1]))],
    )
