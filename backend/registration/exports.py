"""The 年度确认进度 export kind: the figures page's table (a unit and each of its children) for one year."""

from sqlalchemy import func, select

from backend.errors import ValidationFailed
from backend.exports.registry import Source, export_kind
from backend.extensions import db
from backend.figures.service import find_stat
from backend.orgs.models import OrgUnit
from backend.orgs.scope import get_unit_in_scope
from backend.registration import queries, windows

HEADER = [
    "机构",
    "退役军人数",
    "已提交",
    "提交率%",
    "已通过",
    "通过率%",
    "退回补正",
    "逾期未报",
    "逾期率%",
    "审核用时中位数（天）",
]


def _year(value):
    this_year = windows.today_cst().year
    try:
        year = int(value) if value not in (None, "") else this_year
    except (TypeError, ValueError):
        year = None
    if year is None or not 2000 <= year <= this_year + 1:
        raise ValidationFailed(details={"year": "年度不正确"})
    return year


def _rows(actor, year, unit_id):
    own, children = queries.figures(actor=actor, year=year, unit_id=unit_id)
    for f in [own, *children]:
        yield [
            f.unit.name,
            f.veterans,
            f.submitted,
            f.share(f.submitted),
            f.approved,
            f.share(f.approved),
            f.returned,
            f.overdue,
            f.share(f.overdue),
            f.median_review_days,
        ]
    yield [own.as_of_text]  # 「统计截至 …」: rolled-up figures say when they were counted


@export_kind("registration_figures", permission="registration.view", title="年度确认进度")
def figures_export(actor, params):
    """One row per unit: the unit asked for (default: the actor's), then its children; a few rows, however many
    veterans (the figures come from backend.registration.queries.figures). :raises ValidationFailed, OrgUnitNotFound:
    """
    year = _year(params.get("year"))
    unit = get_unit_in_scope(actor, params.get("unit") or actor.org_unit_id)
    if find_stat(unit.id, year) is None:  # never a sheet of zeros for a year the roll-up has not counted
        raise ValidationFailed(details={"year": "该年度统计尚未生成，暂不能导出"})
    return Source(
        header=HEADER,
        rows=_rows(actor, year, unit.id),
        params={"year": year, "unit": unit.id},
        unit_id=unit.id,
        count=lambda: (
            1 + db.session.scalar(select(func.count()).select_from(OrgUnit).where(OrgUnit.parent_id == unit.id))
        ),
    )
