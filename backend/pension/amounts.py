"""The amount in force: per (veteran, component), the latest pay_amount row whose effective month is not after the
month asked for (ties: the later row). Pure reads; every write lives in the services.

Months are dates on the first day of the month (CST calendar months).
"""

from datetime import date

from sqlalchemy import func, select

from backend.extensions import db
from backend.pension.models import COMPONENTS, PayAmount, PayStateEvent


def first_of_month(day):
    return date(day.year, day.month, 1)


def add_months(month, n):
    index = month.year * 12 + month.month - 1 + n
    return date(index // 12, index % 12 + 1, 1)


def months_between(first, end):
    """[first, end) as a list of months."""
    months, month = [], first_of_month(first)
    while month < end:
        months.append(month)
        month = add_months(month, 1)
    return months


def in_force(month, *, veteran_ids=None):
    """A selectable of (veteran_id, component, amount_fen, funding) in force in `month`, optionally for some
    veterans. ROW_NUMBER over the (veteran_id, component, effective_month, id) index: set-based on both engines."""
    ranked = select(
        PayAmount.veteran_id,
        PayAmount.component,
        PayAmount.amount_fen,
        PayAmount.funding,
        func.row_number()
        .over(
            partition_by=(PayAmount.veteran_id, PayAmount.component),
            order_by=(PayAmount.effective_month.desc(), PayAmount.id.desc()),
        )
        .label("rank"),
    ).where(PayAmount.effective_month <= month)
    if veteran_ids is not None:
        ranked = ranked.where(PayAmount.veteran_id.in_(veteran_ids))
    ranked = ranked.subquery()
    return select(ranked.c.veteran_id, ranked.c.component, ranked.c.amount_fen, ranked.c.funding).where(
        ranked.c.rank == 1
    )


def components_of(veteran_id, month):
    """{component: (amount_fen, funding)} in force for one veteran in `month` (components never set are absent)."""
    rows = db.session.execute(in_force(month, veteran_ids=[veteran_id])).all()
    return {row.component: (row.amount_fen, row.funding) for row in rows}


def monthly_fen(veteran_id, month):
    return sum(fen for fen, _ in components_of(veteran_id, month).values())


def history_rows(veteran_id):
    """Every amount row of the veteran, oldest first (small: a few per year)."""
    return db.session.scalars(
        select(PayAmount).where(PayAmount.veteran_id == veteran_id).order_by(PayAmount.effective_month, PayAmount.id)
    ).all()


def due_by_month(rows, months):
    """From a veteran's history rows (history_rows), {month: {component: (fen, funding)}} for each month asked for,
    without a query per month."""
    out = {}
    for month in months:
        current = {}
        for row in rows:  # rows are ordered by (effective_month, id): the last match wins
            if row.effective_month <= month:
                current[row.component] = (row.amount_fen, row.funding)
        out[month] = {c: current[c] for c in COMPONENTS if c in current}
    return out


def state_events(veteran_id):
    return db.session.scalars(
        select(PayStateEvent)
        .where(PayStateEvent.veteran_id == veteran_id)
        .order_by(PayStateEvent.effective_on, PayStateEvent.id)
    ).all()


def stands_in(events, month):
    """Whether pay stands in `month` by the state events (start, suspend, resume, stop), each effective from the
    month its date falls in: started and neither suspended (without a later resumption) nor stopped by then."""
    state = "pending"
    for event in events:
        if first_of_month(event.effective_on) > month:
            break
        state = {"start": "active", "resume": "active", "suspend": "suspended", "stop": "stopped"}[event.action]
    return state == "active"


def owed_for(veteran_id, months, *, events=None):
    """The total due over `months` where pay stands (e.g. a suspension later lifted): sum of the amounts then in
    force, with the history as it is now (so an adjustment effective inside the range counts from its month).
    `events` (ordered like state_events) replaces the stored ones: a resume's preview passes the events it would
    leave, before anything is written."""
    rows = history_rows(veteran_id)
    events = state_events(veteran_id) if events is None else events
    due = due_by_month(rows, months)
    return sum(sum(fen for fen, _ in due[m].values()) for m in months if stands_in(events, m))


def latest_change_month(veteran_ids):
    """{veteran_id: the latest effective month of any amount row} — for 'changed since' checks in jobs."""
    rows = db.session.execute(
        select(PayAmount.veteran_id, func.max(PayAmount.effective_month))
        .where(PayAmount.veteran_id.in_(veteran_ids))
        .group_by(PayAmount.veteran_id)
    ).all()
    return dict(rows)
