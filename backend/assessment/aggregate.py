"""The aggregation job: every indicator of one year for every unit, written to assessment_figure.

Each source is read once, grouped by its own unit (indicators.py); the own-unit numerators and denominators are then
summed up the org tree in Python (children before parents, by org_unit depth), so a county's figure is exactly the sum
of its stations' (plus anything recorded at the county itself). Medians are not additive: each unit's median comes
from the summed histogram of its whole subtree (whole hours or days). Grids get no rows (no source is kept per grid:
every figure belongs to a station or a unit above). One upsert in one short transaction, so the dashboard sees the
previous figures or these, never half. Idempotent; run once a CST day by beat (assessment.aggregate, hourly, acting
once) and the embedded ticker, at `flask run-jobs`, and on demand from the dashboard (重新计算).
"""

from collections import Counter, defaultdict

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite

from backend.assessment.indicators import HISTOGRAM_TOP, INDICATORS, SOURCES, context, value_permille
from backend.assessment.models import UnitFigure
from backend.db import transaction, utcnow
from backend.extensions import db
from backend.orgs.models import OrgUnit
from backend.registration.windows import today_cst

WRITE_BATCH = 1000


def median(histogram):
    """The median of a {bucket: n} Counter, or None when empty (the mean of the two middle values when even)."""
    total = sum(histogram.values())
    if not total:
        return None
    ordered = sorted(histogram.items())

    def nth(k):
        seen = 0
        for bucket, n in ordered:
            seen += n
            if k < seen:
                return bucket
        return ordered[-1][0]

    middle = total // 2
    return float(nth(middle)) if total % 2 else (nth(middle - 1) + nth(middle)) / 2


def _own_figures(ctx, codes):
    """{code: {unit_id: (numerator, denominator)}} and {code: {unit_id: Counter}} (medians) as recorded per unit."""
    pairs, histograms = {}, {}
    for code in codes:
        kind, source = SOURCES[code]
        if kind == "pairs":
            pairs[code] = source(ctx)
        else:
            found = defaultdict(Counter)
            for unit_id, bucket, n in source(ctx):
                if unit_id is not None and bucket is not None:
                    found[unit_id][min(max(int(bucket), 0), HISTOGRAM_TOP)] += n
            histograms[code] = found
    return pairs, histograms


def compute(year, *, today=None):
    """Row dicts for assessment_figure of `year` (no writes): every non-grid unit × every indicator computed."""
    today = today or today_cst()
    ctx = context(year, today)
    codes = [i.code for i in INDICATORS if not (i.snapshot and year != today.year)]
    pairs, histograms = _own_figures(ctx, codes)
    units = db.session.execute(select(OrgUnit.id, OrgUnit.parent_id, OrgUnit.depth, OrgUnit.path, OrgUnit.level)).all()
    totals = {code: {u.id: list(pairs[code].get(u.id, (0, 0))) for u in units} for code in pairs}
    hist = {code: {u.id: Counter(histograms[code].get(u.id, {})) for u in units} for code in histograms}
    for unit_id, parent_id, *_ in sorted(units, key=lambda u: -u.depth):  # children before parents
        if parent_id is None:
            continue
        for by_unit in totals.values():
            by_unit[parent_id][0] += by_unit[unit_id][0]
            by_unit[parent_id][1] += by_unit[unit_id][1]
        for by_unit in hist.values():
            by_unit[parent_id].update(by_unit[unit_id])
    rows = []
    for unit_id, _, _, path, level in units:
        if level == "grid":
            continue
        for indicator in INDICATORS:
            if indicator.code in totals:
                num, den = totals[indicator.code][unit_id]
                value = value_permille(indicator, num, den)
            elif indicator.code in hist:
                counts = hist[indicator.code][unit_id]
                num, den = sum(counts.values()), 0
                value = value_permille(indicator, num, den, median(counts))
            else:
                continue
            rows.append(
                {"unit_id": unit_id, "unit_path": path, "year": year, "code": indicator.code, "numerator": num,
                 "denominator": den, "value_permille": value}
            )  # fmt: skip
    return rows


def _upsert(rows):
    insert = postgresql.insert if db.session.get_bind().dialect.name == "postgresql" else sqlite.insert
    statement = insert(UnitFigure)
    columns = ("unit_path", "numerator", "denominator", "value_permille", "computed_at")
    statement = statement.on_conflict_do_update(
        index_elements=["unit_id", "year", "code"], set_={c: statement.excluded[c] for c in columns}
    )
    for start in range(0, len(rows), WRITE_BATCH):
        db.session.execute(statement, rows[start : start + WRITE_BATCH])


def aggregate(year=None, *, today=None, now=None):
    """Recompute `year` (default: this year, CST) for every unit. :returns: the number of rows written."""
    today = today or today_cst(now)
    year = int(year or today.year)
    computed_at = now or utcnow()
    rows = sorted(compute(year, today=today), key=lambda r: (r["unit_id"], r["code"]))
    for row in rows:
        row["computed_at"] = computed_at
    with transaction():
        _upsert(rows)
    return len(rows)


def nightly(now=None, *, force=True):
    """The scheduled run: this year, and the previous one during January (late corrections to last year). Beat and
    the embedded ticker call it hourly with force=False: it acts once per CST day (soon after midnight), when this
    year's figures were last computed before today. :returns: the rows written (0 when skipped)"""
    today = today_cst(now)
    if not force:
        last = db.session.scalar(select(func.max(UnitFigure.computed_at)).where(UnitFigure.year == today.year))
        if last is not None and today_cst(last) >= today:
            return 0
    written = aggregate(today.year, today=today, now=now)
    if today.month == 1:
        written += aggregate(today.year - 1, today=today, now=now)
    return written
