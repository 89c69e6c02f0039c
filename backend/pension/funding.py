"""Retirement pay funding totals (Art. 22): per confirmed run, station, component and funding source.

write_totals(run) recomputes a run's rows set-based (GROUP BY over its lines) when the run is confirmed and after each
return file: lines held out of the bank file and failed payments do not count (a failure counts as back pay in the run
that pays it when carried). Components: base, allowance, adjustment, back_pay (its central share recorded per line),
deduction (negative: an earlier overpayment taken back, local share first).
The page and the export sum them by month, year, funding source, child unit (station_path prefix) and component;
these totals feed the assessment figures (issue 20).
"""

from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import case, delete, func, insert, literal, select, union_all

from backend.errors import ValidationFailed
from backend.exports.registry import Source, export_kind
from backend.extensions import db
from backend.orgs.models import OrgUnit
from backend.orgs.scope import get_unit_in_scope, require_permission
from backend.pension.models import COMPONENTS, FundingTotal, PayrollLine, PayrollRun

COMPONENT_LABELS = {
    "base": "基本退役金",
    "allowance": "补贴",
    "adjustment": "调整增加额",
    "back_pay": "补发",
    "deduction": "扣减",
}
FUNDING_LABELS = {"central": "中央资金", "local": "地方资金"}


def write_totals(run_id):
    """Replace the run's funding rows with the sums of its counted lines (inside the caller's transaction)."""
    run = db.session.get(PayrollRun, run_id)
    counted = (PayrollLine.run_id == run_id, PayrollLine.held.is_(False), PayrollLine.status != "failed")
    parts = []
    for component in COMPONENTS:
        fen, source = getattr(PayrollLine, f"{component}_fen"), getattr(PayrollLine, f"{component}_funding")
        parts.append(
            select(
                PayrollLine.station_id, literal(component).label("component"), source.label("funding"), fen.label("fen")
            ).where(*counted, fen > 0)
        )
    parts.append(
        select(
            PayrollLine.station_id,
            literal("back_pay").label("component"),
            literal("central").label("funding"),
            PayrollLine.back_pay_central_fen.label("fen"),
        ).where(*counted, PayrollLine.back_pay_central_fen != 0)
    )
    local_back = PayrollLine.back_pay_fen - PayrollLine.back_pay_central_fen
    parts.append(
        select(
            PayrollLine.station_id,
            literal("back_pay").label("component"),
            literal("local").label("funding"),
            local_back.label("fen"),
        ).where(*counted, local_back != 0)
    )
    parts.extend(_deduction_parts(counted))
    every = union_all(*parts).subquery()
    grouped = select(
        every.c.station_id, every.c.component, every.c.funding, func.sum(every.c.fen), func.count()
    ).group_by(every.c.station_id, every.c.component, every.c.funding)
    rows = db.session.execute(grouped).all()
    paths = (
        dict(db.session.execute(select(OrgUnit.id, OrgUnit.path).where(OrgUnit.id.in_({r[0] for r in rows}))).all())
        if rows
        else {}
    )
    db.session.execute(delete(FundingTotal).where(FundingTotal.run_id == run_id))
    if rows:
        db.session.execute(
            insert(FundingTotal),
            [
                {
                    "run_id": run_id,
                    "month": run.month,
                    "station_id": station_id,
                    "station_path": paths[station_id],
                    "component": component,
                    "funding": funding or "local",
                    "amount_fen": int(fen or 0),
                    "veteran_count": count,
                }
                for station_id, component, funding, fen, count in rows
            ],
        )


def _deduction_parts(counted):
    """Deductions (negative), local share first: the central part is what the deduction took off the line's central
    share (central components and central back pay, less central_fen); the rest is local."""
    central_before = PayrollLine.back_pay_central_fen
    for component in COMPONENTS:
        fen, source = getattr(PayrollLine, f"{component}_fen"), getattr(PayrollLine, f"{component}_funding")
        central_before = central_before + case((source == "central", fen), else_=0)
    central = central_before - PayrollLine.central_fen
    local = PayrollLine.deduction_fen - central
    return [
        select(
            PayrollLine.station_id,
            literal("deduction").label("component"),
            literal(funding).label("funding"),
            (-part).label("fen"),
        ).where(*counted, PayrollLine.deduction_fen > 0, part != 0)
        for funding, part in (("central", central), ("local", local))
    ]


def parse_period(year, month=None):
    """(year, month or None) from the query. :raises ValidationFailed:"""
    from backend.registration.windows import today_cst

    try:
        year = int(year) if year not in (None, "") else today_cst().year
        month = int(month) if month not in (None, "") else None
    except (TypeError, ValueError):
        raise ValidationFailed(details={"year": "请选择年度"}) from None
    if not 2000 <= year <= 2100 or (month is not None and not 1 <= month <= 12):
        raise ValidationFailed(details={"year": "请选择年度和月份"})
    return year, month


@dataclass
class Row:
    key: object
    label: str
    by_funding: dict = field(default_factory=dict)

    @property
    def total_fen(self):
        return sum(self.by_funding.values())


@dataclass
class Report:
    unit: object
    year: int
    month: int | None
    total: Row
    by_unit: list
    by_component: list
    by_month: list


def _where(unit, year, month):
    from datetime import date

    start = date(year, month or 1, 1)
    end = date(year + (month or 12) // 12, (month or 12) % 12 + 1, 1)
    return (
        FundingTotal.station_path.startswith(unit.path, autoescape=True),
        FundingTotal.month >= start,
        FundingTotal.month < end,
    )


def report(*, actor, unit_id=None, year=None, month=None):
    """Totals of the unit's subtree for a year (or one month). :raises PermissionDenied, OrgUnitNotFound,
    ValidationFailed:"""
    require_permission(actor, "funding.view")
    year, month = parse_period(year, month)
    unit = get_unit_in_scope(actor, unit_id or actor.org_unit_id)
    where = _where(unit, year, month)
    amount = func.sum(FundingTotal.amount_fen)
    total = Row(None, unit.name)
    for funding, fen in db.session.execute(
        select(FundingTotal.funding, amount).where(*where).group_by(FundingTotal.funding)
    ):
        total.by_funding[funding] = int(fen or 0)
    children = db.session.execute(
        select(OrgUnit.id, OrgUnit.name, OrgUnit.path)
        .where(OrgUnit.parent_id == unit.id, OrgUnit.level != "grid")
        .order_by(OrgUnit.path)
    ).all()
    by_unit = []
    for child in children:  # the children of one unit: a few dozen at most
        row = Row(child.id, child.name)
        for funding, fen in db.session.execute(
            select(FundingTotal.funding, amount)
            .where(*where, FundingTotal.station_path.startswith(child.path, autoescape=True))
            .group_by(FundingTotal.funding)
        ):
            row.by_funding[funding] = int(fen or 0)
        by_unit.append(row)
    by_component = {c: Row(c, label) for c, label in COMPONENT_LABELS.items()}
    for component, funding, fen in db.session.execute(
        select(FundingTotal.component, FundingTotal.funding, amount)
        .where(*where)
        .group_by(FundingTotal.component, FundingTotal.funding)
    ):
        by_component.setdefault(component, Row(component, component)).by_funding[funding] = int(fen or 0)
    by_month = {}
    for month_value, funding, fen in db.session.execute(
        select(FundingTotal.month, FundingTotal.funding, amount)
        .where(*where)
        .group_by(FundingTotal.month, FundingTotal.funding)
        .order_by(FundingTotal.month)
    ):
        by_month.setdefault(month_value, Row(month_value, f"{month_value:%Y-%m}")).by_funding[funding] = int(fen or 0)
    return Report(unit, year, month, total, by_unit, list(by_component.values()), list(by_month.values()))


HEADER = ["月份", "单位", "项目", "资金来源", "人数", "金额（元）", "金额（分）"]


def _export_rows(unit, year, month):
    where = _where(unit, year, month)
    query = (
        select(
            FundingTotal.month,
            OrgUnit.name,
            FundingTotal.component,
            FundingTotal.funding,
            func.sum(FundingTotal.veteran_count),
            func.sum(FundingTotal.amount_fen),
        )
        .join(OrgUnit, OrgUnit.id == FundingTotal.station_id)
        .where(*where)
        .group_by(FundingTotal.month, OrgUnit.path, OrgUnit.name, FundingTotal.component, FundingTotal.funding)
        .order_by(FundingTotal.month, OrgUnit.path, FundingTotal.component, FundingTotal.funding)
    )
    totals = {}
    for month_value, name, component, funding, count, fen in db.session.execute(query).yield_per(2000):
        totals[funding] = totals.get(funding, 0) + int(fen or 0)
        yield [
            f"{month_value:%Y-%m}",
            name,
            COMPONENT_LABELS.get(component, component),
            FUNDING_LABELS.get(funding, funding),
            int(count or 0),
            _yuan(fen),
            int(fen or 0),
        ]
    for funding, fen in totals.items():
        yield ["合计", unit.name, "", FUNDING_LABELS.get(funding, funding), None, _yuan(fen), fen]


def _yuan(fen):
    """Yuan as an exact Decimal number (a number cell, never text: a negative deduction gets no apostrophe)."""
    return Decimal(int(fen or 0)) / 100


@export_kind("pension_funding", permission="funding.view", title="退役金经费统计")
def funding_export(actor, params):
    """Per month, station, component and source of the unit's subtree for a year (or a month).
    :raises PermissionDenied, ValidationFailed, OrgUnitNotFound:"""
    require_permission(actor, "funding.view")
    year, month = parse_period(params.get("year"), params.get("month"))
    unit = get_unit_in_scope(actor, params.get("unit") or actor.org_unit_id)
    return Source(
        header=HEADER,
        rows=_export_rows(unit, year, month),
        params={"year": year, "month": month, "unit": unit.id},
        unit_id=unit.id,
    )
