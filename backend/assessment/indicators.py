"""The registry of assessment indicators (考核指标, Art. 15, 23). Each indicator is one set-based query per source
table: GROUP BY the source's own unit column (a station for almost every source; a center for staff and archive
rooms), returning {unit_id: (numerator, denominator)} for one year (China Standard Time). The aggregation job
(aggregate.py) sums them up the org tree; nothing here loops over veterans in Python.

Measures (how value_permille is derived from a unit's summed numerator and denominator):
- rate: numerator / denominator, shown as a percentage (target in permille: 950 = 95 %).
- per100: numerator per 100 of the denominator (active veterans); the count itself is shown too.
- average: numerator / denominator / 10 (training hours are stored in tenths), per staff member.
- median: not additive: each unit's median is taken from the histogram of its whole subtree (whole hours or days,
  summed up the tree), so it is exact to the whole hour/day at every level; numerator = the number of samples.
Snapshot indicators (grid coverage, overdue contacts) describe "now" and are only computed for the current year;
a past year keeps the rows last written while it was current.
"""

from dataclasses import dataclass

from backend.assessment.sources import (
    active_veterans,
    archive_inspections,
    assistance_cases,
    bookings_no_show,
    bookings_served,
    bookings_utilisation,
    complaints_in_time,
    contact_coverage,
    contacts_overdue,
    grid_coverage,
    notifications_read,
    onboarding_on_time,
    payment_days,
    registration_completion,
    review_hours,
    satisfaction,
    training_hours,
    visits_made,
    year_bounds,
)

HISTOGRAM_TOP = 24 * 366  # medians: longer times count in the top bucket


@dataclass(frozen=True)
class Indicator:
    code: str
    label: str
    measure: str  # rate | per100 | average | median
    unit_label: str  # shown after the value
    lower_is_better: bool = False
    snapshot: bool = False
    default_weight: int = 0
    default_target: int = 1000  # ×1000 of the value as shown (950 = 95 %, 24000 = 24 小时)
    link: tuple = ()  # (endpoint, {extra args}) of the list behind the figure


def _i(code, label, measure, unit_label, link, **kw):
    return Indicator(code=code, label=label, measure=measure, unit_label=unit_label, link=link, **kw)


INDICATORS = (
    _i("registration", "年度确认完成率", "rate", "%", ("registration.figures", {}), default_weight=15,
       default_target=950),
    _i("review_hours", "审核用时中位数", "median", "小时", ("registration.index", {}), lower_is_better=True,
       default_weight=5, default_target=72000),
    _i("contact_coverage", "联系覆盖率", "rate", "%", ("care.coverage", {}), default_weight=10, default_target=900),
    _i("contacts_overdue", "逾期未联系占比", "rate", "%", ("care.overdue", {}), lower_is_better=True, snapshot=True,
       default_weight=5, default_target=50),
    _i("visits", "走访慰问（每百人）", "per100", "次", ("visits.index", {}), default_weight=5, default_target=20000),
    _i("assistance", "帮扶援助（每百人）", "per100", "件", ("assistance.index", {}), default_weight=5,
       default_target=2000),
    _i("payment_days", "援助发放用时中位数", "median", "天", ("assistance.index", {}), lower_is_better=True,
       default_weight=5, default_target=15000),
    _i("bookings_served", "预约办结（每百人）", "per100", "次", ("bookings.figures", {}), default_weight=5,
       default_target=10000),
    _i("no_shows", "预约爽约率", "rate", "%", ("bookings.figures", {}), lower_is_better=True, default_weight=5,
       default_target=100),
    _i("utilisation", "号源利用率", "rate", "%", ("bookings.figures", {}), default_weight=5, default_target=600),
    _i("notifications_read", "通知阅读率", "rate", "%", ("notifications.index", {}), default_weight=5,
       default_target=800),
    _i("satisfaction", "服务满意率", "rate", "%", ("feedback.index", {}), default_weight=10, default_target=950),
    _i("complaints_in_time", "投诉按时办结率", "rate", "%", ("feedback.index", {}), default_weight=5,
       default_target=1000),
    _i("grid_coverage", "网格全覆盖率", "rate", "%", ("veterans.coverage", {}), snapshot=True, default_weight=5,
       default_target=1000),
    _i("onboarding", "接收安置按时完成率", "rate", "%", ("onboarding.index", {}), default_weight=5,
       default_target=900),
    _i("archives", "档案检查完成率", "rate", "%", ("archives.index", {}), default_weight=0, default_target=1000),
    _i("training", "人均培训学时", "average", "学时", ("training.index", {}), default_weight=5, default_target=40000),
)  # fmt: skip
BY_CODE = {indicator.code: indicator for indicator in INDICATORS}

# code -> (kind, function): "pairs" return {unit: (numerator, denominator)}; "histogram" rows (unit, bucket, n)
SOURCES = {
    "registration": ("pairs", registration_completion),
    "review_hours": ("histogram", review_hours),
    "contact_coverage": ("pairs", contact_coverage),
    "contacts_overdue": ("pairs", contacts_overdue),
    "visits": ("pairs", visits_made),
    "assistance": ("pairs", assistance_cases),
    "payment_days": ("histogram", payment_days),
    "bookings_served": ("pairs", bookings_served),
    "no_shows": ("pairs", bookings_no_show),
    "utilisation": ("pairs", bookings_utilisation),
    "notifications_read": ("pairs", notifications_read),
    "satisfaction": ("pairs", satisfaction),
    "complaints_in_time": ("pairs", complaints_in_time),
    "grid_coverage": ("pairs", grid_coverage),
    "onboarding": ("pairs", onboarding_on_time),
    "archives": ("pairs", archive_inspections),
    "training": ("pairs", training_hours),
}


def context(year, today):
    t0, t1, d0, d1 = year_bounds(year)
    ctx = {"year": year, "today": today, "t0": t0, "t1": t1, "d0": d0, "d1": d1}
    ctx["active"] = active_veterans(ctx)
    return ctx


def value_permille(indicator, numerator, denominator, median=None):
    """The value ×1000 as shown (a rate in permille, a count per 100, hours per staff ×1000, a median ×1000), or
    None when there is nothing to measure."""
    if indicator.measure == "median":
        return None if median is None else round(median * 1000)
    if not denominator:
        return None
    if indicator.measure == "rate":
        return round(numerator * 1000 / denominator)
    if indicator.measure == "per100":
        return round(numerator * 100 * 1000 / denominator)
    return round(numerator * 100 / denominator)  # average of tenths: /10 ×1000
