"""Reads of the rolled-up figures: a unit's row and its children's rows by primary key, the median from summed
review-day histograms, and the 「统计截至」 text every page with rolled-up figures shows."""

from datetime import timedelta, timezone

from sqlalchemy import and_, select

from backend.extensions import db
from backend.figures.models import HISTOGRAM_TOP, UnitStat
from backend.orgs.models import OrgUnit

CST = timezone(timedelta(hours=8))
NOT_YET = "该年度统计尚未生成"
NOT_YET_COVERAGE = "统计尚未生成"


def find_stat(unit_id, year):
    """The unit_stat row of `unit_id` for `year`, or None (not rolled up yet)."""
    return db.session.get(UnitStat, (unit_id, year))


def latest_stat(unit_id):
    """The newest year's unit_stat row of `unit_id`, or None (for figures that do not depend on the year)."""
    return db.session.scalars(
        select(UnitStat).where(UnitStat.unit_id == unit_id).order_by(UnitStat.year.desc()).limit(1)
    ).first()


def children_with_stats(unit, year):
    """[(child OrgUnit, UnitStat or None)] of `unit`, by name: the org_unit parent index plus unit_stat primary keys.
    The caller has checked `unit` is in the actor's scope; its children are too."""
    on = and_(UnitStat.unit_id == OrgUnit.id, UnitStat.year == year)
    return db.session.execute(
        select(OrgUnit, UnitStat).outerjoin(UnitStat, on).where(OrgUnit.parent_id == unit.id).order_by(OrgUnit.name)
    ).all()


def median_days(histogram):
    """The median of a {days: n} histogram (keys may be strings, as stored in JSON), or None when it is empty."""
    counts = sorted((int(days), n) for days, n in (histogram or {}).items() if n)
    total = sum(n for _, n in counts)
    if not total:
        return None

    def nth(k):  # the k-th smallest value, 0-based
        seen = 0
        for days, n in counts:
            seen += n
            if k < seen:
                return days
        return HISTOGRAM_TOP

    middle = total // 2
    if total % 2:
        return float(nth(middle))
    return (nth(middle - 1) + nth(middle)) / 2


def as_of_text_for(unit_id, year):
    """as_of_text of the unit's rollup row for `year`."""
    stat = find_stat(unit_id, year)
    return as_of_text(stat.computed_at if stat else None)


def as_of_text(as_of):
    """「统计截至 YYYY-MM-DD HH:MM」 (Asia/Shanghai), or the not-yet-generated notice when there is no rollup."""
    if as_of is None:
        return NOT_YET
    return f"统计截至 {as_of.astimezone(CST):%Y-%m-%d %H:%M}"
