"""The 经费统计 export kind: the figures page's lines (station, source, kind, purpose) for one budget year."""

from backend.exports.registry import Source, export_kind
from backend.funding import figures
from backend.orgs.scope import get_unit_in_scope, require_permission

HEADER = ["服务站", "资金来源", "支出类别", "用途", "笔数", "金额（元）", "金额（分）"]


def _rows(unit, year):
    lines = figures.funding_lines(unit, year)
    total = {source: 0 for source in figures.SOURCES}
    for line in lines:
        total[line.source] = total.get(line.source, 0) + line.amount_fen
        yield [
            line.station_name,
            line.source_label,
            line.kind_label,
            line.purpose,
            line.count,
            figures.yuan_decimal(line.amount_fen),
            line.amount_fen,
        ]
    for source, fen in total.items():
        yield ["合计", figures.SOURCES[source], "", "", None, figures.yuan_decimal(fen), fen]
    all_fen = sum(total.values())
    yield ["合计", "全部", "", "", None, figures.yuan_decimal(all_fen), all_fen]


@export_kind("funding_figures", permission="funding.view", title="经费支出统计")
def funding_export(actor, params):
    """One row per station, source, kind and purpose of the unit's subtree (default: the actor's unit), then the
    totals by source. :raises PermissionDenied, ValidationFailed, OrgUnitNotFound:"""
    require_permission(actor, "funding.view")
    year = figures.parse_year(params.get("year"))
    unit = get_unit_in_scope(actor, params.get("unit") or actor.org_unit_id)
    return Source(header=HEADER, rows=_rows(unit, year), params={"year": year, "unit": unit.id}, unit_id=unit.id)
