"""The rollup: own-unit counts with one GROUP BY per source table, summed up the org tree in Python, written to
unit_stat in one short transaction (an upsert, so readers see either the previous rollup or this one, never half)."""

from collections import Counter, defaultdict

from sqlalchemy import func, literal_column, select
from sqlalchemy.dialects import postgresql, sqlite

from backend.db import transaction, utcnow
from backend.extensions import db
from backend.figures.models import COUNT_COLUMNS, HISTOGRAM_TOP, UnitStat
from backend.orgs.models import OrgUnit
from backend.registration.models import Registration, Talk
from backend.registration.queries import TABS
from backend.registration.windows import today_cst
from backend.veterans.models import Veteran

WRITE_BATCH = 1000


def rollup_years(now=None):
    """The years the rollup keeps: this year (Asia/Shanghai) and the previous one."""
    year = today_cst(now).year
    return (year, year - 1)


def _veteran_counts():
    """{unit_id: {column: n}} over every veteran, grouped by the veteran's own unit."""
    has_worker = func.coalesce(func.length(Veteran.grid_worker), 0) > 0
    rows = db.session.execute(
        select(
            Veteran.unit_id,
            func.count(Veteran.id),
            func.count(Veteran.station_id),
            func.count(Veteran.grid_id),
            func.count(Veteran.id).filter(Veteran.grid_id.is_not(None), has_worker),
            func.count(Veteran.id).filter(Veteran.status == "active"),
        ).group_by(Veteran.unit_id)
    ).all()
    names = ("veterans_all", "with_station", "with_grid", "with_worker", "veterans")
    return {unit_id: dict(zip(names, counts, strict=True)) for unit_id, *counts in rows}


def _registration_counts(years):
    """{(unit_id, year): {column: n}}: ever submitted, and one count per review queue tab (the same conditions)."""
    tabs = ("waiting", "returned", "flagged", "approved", "overdue")
    rows = db.session.execute(
        select(
            Registration.unit_id,
            Registration.year,
            func.count(Registration.first_submitted_at),
            *(func.count(Registration.id).filter(TABS[tab][1]) for tab in tabs),
        )
        .where(Registration.year.in_(years))
        .group_by(Registration.unit_id, Registration.year)
    ).all()
    counts = {(unit_id, year): dict(zip(("submitted", *tabs), n, strict=True)) for unit_id, year, *n in rows}
    # 待约谈 (TABS["talks"]: a scheduled talk exists) from the small talk table, not a subquery per registration
    talks = db.session.execute(
        select(Registration.unit_id, Registration.year, func.count(func.distinct(Registration.id)))
        .join(Talk, Talk.registration_id == Registration.id)
        .where(Registration.year.in_(years), Talk.status == "scheduled")
        .group_by(Registration.unit_id, Registration.year)
    ).all()
    for unit_id, year, n in talks:
        counts.setdefault((unit_id, year), {})["talks"] = n
    return counts


def _days_expression():
    """Whole days from first submission to decision, computed by the database (exact integer seconds)."""
    decided, first = Registration.decided_at, Registration.first_submitted_at
    if db.session.get_bind().dialect.name == "postgresql":
        return func.floor(func.extract("epoch", decided - first) / literal_column("86400"))
    seconds = func.strftime("%s", decided).cast(db.Integer) - func.strftime("%s", first).cast(db.Integer)
    return seconds / literal_column("86400")  # integer division on SQLite


def _review_histograms(years):
    """{(unit_id, year): Counter({days: n})} of the approved registrations' review times."""
    decided = (
        select(Registration.unit_id, Registration.year, _days_expression().label("days"))
        .where(
            Registration.year.in_(years),
            Registration.status == "approved",
            Registration.decided_at.is_not(None),
            Registration.first_submitted_at.is_not(None),
        )
        .subquery()
    )
    rows = db.session.execute(
        select(decided.c.unit_id, decided.c.year, decided.c.days, func.count()).group_by(
            decided.c.unit_id, decided.c.year, decided.c.days
        )
    ).all()
    histograms = defaultdict(Counter)
    for unit_id, year, days, n in rows:
        histograms[(unit_id, year)][min(max(int(days), 0), HISTOGRAM_TOP)] += n
    return histograms


def compute(years):
    """The subtree totals per (unit_id, year) for every unit, as row dicts for unit_stat (no writes)."""
    units = db.session.execute(select(OrgUnit.id, OrgUnit.parent_id, OrgUnit.depth)).all()
    veterans, registrations, histograms = _veteran_counts(), _registration_counts(years), _review_histograms(years)
    totals = {}
    for unit_id, _, _ in units:
        for year in years:
            row = dict.fromkeys(COUNT_COLUMNS, 0)
            row.update(veterans.get(unit_id, {}))
            row.update(registrations.get((unit_id, year), {}))
            totals[(unit_id, year)] = (row, Counter(histograms.get((unit_id, year), {})))
    # Children before parents: add each unit's subtree totals into its parent's.
    for unit_id, parent_id, _ in sorted(units, key=lambda u: -u[2]):
        if parent_id is None:
            continue
        for year in years:
            child, child_days = totals[(unit_id, year)]
            parent, parent_days = totals[(parent_id, year)]
            for column in COUNT_COLUMNS:
                parent[column] += child[column]
            parent_days.update(child_days)
    return [
        {"unit_id": unit_id, "year": year, **row, "review_days": {str(d): n for d, n in sorted(days.items())}}
        for (unit_id, year), (row, days) in sorted(totals.items())
    ]


def _upsert(rows):
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(UnitStat)
    updated = {c: statement.excluded[c] for c in (*COUNT_COLUMNS, "review_days", "computed_at")}
    statement = statement.on_conflict_do_update(index_elements=["unit_id", "year"], set_=updated)
    for start in range(0, len(rows), WRITE_BATCH):
        db.session.execute(statement, rows[start : start + WRITE_BATCH])


def rollup(*, years=None, now=None):
    """Recompute unit_stat for `years` (default: this year and the previous one). Idempotent; safe to run at any time
    and concurrently (rows are written in primary-key order, so two runs cannot deadlock).

    :returns: the number of unit_stat rows written
    """
    years = tuple(years or rollup_years(now))
    computed_at = now or utcnow()
    rows = [{**row, "computed_at": computed_at} for row in compute(years)]
    with transaction():
        _upsert(rows)
    return len(rows)
