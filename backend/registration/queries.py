"""Scoped reads for staff: the review queue and the figures per unit."""

import statistics
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import and_, exists, func, or_, select

from backend.counting import capped_count
from backend.extensions import db
from backend.orgs.models import OrgUnit
from backend.orgs.scope import get_unit_in_scope, require_permission, scoped
from backend.registration.models import Registration, Talk
from backend.veterans.models import Veteran

TABS = {
    "waiting": ("待审核", Registration.status == "submitted"),
    "returned": ("已退回", Registration.status == "returned"),
    "flagged": ("有关注事项", Registration.flagged.is_(True)),
    "approved": ("已通过", Registration.status == "approved"),
    "overdue": ("逾期未报", Registration.status == "overdue"),
    # workbench slice (issue 11): the list the workbench's 待约谈 count links to
    "talks": (
        "待约谈",
        exists().where(Talk.registration_id == Registration.id, Talk.status == "scheduled"),
    ),
}


def days_waiting(reg, now=None):
    if reg.status != "submitted" or reg.submitted_at is None:
        return None
    return ((now or datetime.now(UTC)) - reg.submitted_at).days


QUEUE_PAGE = 50
ESTIMATE_CAP = 1000  # counts stop here: the page says 「约 1,000+ 条」 rather than counting a large set
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICRO = timedelta(microseconds=1)


@dataclass
class QueueFilter:
    year: int
    tab: str = "waiting"
    unit_id: int | None = None
    grid_id: int | None = None
    name: str | None = None  # a prefix of the veteran's name (names are plain text, indexed)
    sort: str = "waiting_desc"  # waiting_desc: the longest waiting first


@dataclass
class QueuePage:
    rows: list
    next_after: str | None  # ?after= for the next page
    prev_before: str | None  # ?before= for the previous page


def _queue_key():
    """The queue's sort key: when submitted (a never-submitted row: when created), then the id."""
    return func.coalesce(Registration.submitted_at, Registration.created_at)


def queue_cursor(reg):
    key = reg.submitted_at or reg.created_at
    return f"{(key - _EPOCH) // _MICRO}_{reg.id}"


def parse_queue_cursor(raw):
    """(datetime, id) from a cursor, or None for anything malformed (a tampered URL starts from the first page)."""
    try:
        micros, reg_id = (raw or "").split("_")
        micros, reg_id = int(micros), int(reg_id)
        if not (0 <= micros < 10**17 and 0 < reg_id < 2**63):
            return None
        return _EPOCH + micros * _MICRO, reg_id
    except ValueError:
        return None


def _queue_query(actor, f):
    require_permission(actor, "registration.view")
    tab = f.tab if f.tab in TABS else "waiting"
    query = scoped(select(Registration).where(Registration.year == f.year, TABS[tab][1]), actor, Registration.unit_id)
    if f.unit_id:
        unit = get_unit_in_scope(actor, f.unit_id)
        query = query.where(Registration.unit_id.in_(select(OrgUnit.id).where(OrgUnit.path.startswith(unit.path))))
    if f.grid_id:
        query = query.where(Registration.unit_id == f.grid_id)
    if f.name:
        named = select(Veteran.id).where(Veteran.name.startswith(f.name, autoescape=True))
        query = query.where(Registration.veteran_id.in_(named))
    return query


def _beyond(cursor, forward):
    key, (at, reg_id) = _queue_key(), cursor
    if forward:
        return or_(key > at, and_(key == at, Registration.id > reg_id))
    return or_(key < at, and_(key == at, Registration.id < reg_id))


def review_queue(*, actor, filters, after=None, before=None, limit=None):
    """One page of a tab of the review queue in the actor's subtree, keyset-paginated on (submitted, id): no OFFSET.

    :param after: / :param before: cursors (queue_cursor) of the page's neighbours; malformed ones are ignored.
    :returns: QueuePage
    """
    query, limit = _queue_query(actor, filters), limit or QUEUE_PAGE
    ascending = filters.sort != "waiting_asc"  # waiting_desc: the oldest submission first
    after, before = parse_queue_cursor(after), parse_queue_cursor(before)
    key = _queue_key()
    if before and not after:
        order = (key.desc(), Registration.id.desc()) if ascending else (key.asc(), Registration.id.asc())
        rows = db.session.scalars(query.where(_beyond(before, not ascending)).order_by(*order).limit(limit + 1)).all()
        has_previous = len(rows) > limit
        rows = list(reversed(rows[:limit]))
        return QueuePage(
            rows, queue_cursor(rows[-1]) if rows else None, queue_cursor(rows[0]) if has_previous and rows else None
        )
    order = (key.asc(), Registration.id.asc()) if ascending else (key.desc(), Registration.id.desc())
    if after:
        query = query.where(_beyond(after, ascending))
    rows = db.session.scalars(query.order_by(*order).limit(limit + 1)).all()
    has_next = len(rows) > limit
    rows = rows[:limit]
    return QueuePage(
        rows, queue_cursor(rows[-1]) if has_next else None, queue_cursor(rows[0]) if after and rows else None
    )


def estimate_queue(*, actor, filters, cap=None):
    """Rows of the queue's tab with its filters as a CappedCount (shown 「约 1000+ 条」 beyond `cap`)."""
    return capped_count(_queue_query(actor, filters).with_only_columns(Registration.id), cap or ESTIMATE_CAP)


def tab_counts(*, actor, year, cap=ESTIMATE_CAP):
    """CappedCount per tab: no unbounded COUNT over a large subtree."""
    require_permission(actor, "registration.view")
    base = scoped(select(Registration.id).where(Registration.year == year), actor, Registration.unit_id)
    return {tab: capped_count(base.where(cond), cap) for tab, (_, cond) in TABS.items()}


@dataclass
class Figures:
    unit: OrgUnit
    veterans: int
    submitted: int
    approved: int
    returned: int
    overdue: int
    median_review_days: float | None

    empty_reason = "暂无应确认人员"

    def share(self, n):
        """A percentage of the veterans, or None when there is nobody to count (shown as 「—」, never 0.0%)."""
        return round(100 * n / self.veterans, 1) if self.veterans else None


def figures(*, actor, year, unit_id=None, with_median=True):
    """Per child unit of `unit_id` (default: the actor's unit): shares submitted, approved, returned, overdue and
    the median review time in days. Returns (own, [children])."""
    require_permission(actor, "registration.view")
    unit = get_unit_in_scope(actor, unit_id or actor.org_unit_id)
    children = db.session.scalars(select(OrgUnit).where(OrgUnit.parent_id == unit.id).order_by(OrgUnit.name)).all()
    return _figures(unit, year, with_median), [_figures(c, year, with_median) for c in children]


def _figures(unit, year, with_median=True):
    """Counted in the database (one aggregate per unit); only the approved rows' dates are read, for the median."""
    subtree = select(OrgUnit.id).where(OrgUnit.path.startswith(unit.path))
    veterans = db.session.scalar(
        select(func.count()).select_from(Veteran).where(Veteran.unit_id.in_(subtree), Veteran.status == "active")
    )
    in_unit = (Registration.year == year, Registration.unit_id.in_(subtree))
    row = db.session.execute(
        select(
            func.count(Registration.first_submitted_at),
            func.count(Registration.id).filter(Registration.status == "approved"),
            func.count(Registration.id).filter(Registration.status == "returned"),
            func.count(Registration.id).filter(Registration.status == "overdue"),
        ).where(*in_unit)
    ).one()
    median = None
    if with_median:
        decided = db.session.execute(
            select(Registration.first_submitted_at, Registration.decided_at).where(
                *in_unit, Registration.status == "approved"
            )
        ).all()
        durations = [(d - f).total_seconds() / 86400 for f, d in decided if d and f]
        median = round(statistics.median(durations), 1) if durations else None
    return Figures(
        unit=unit,
        veterans=veterans,
        submitted=row[0],
        approved=row[1],
        returned=row[2],
        overdue=row[3],
        median_review_days=median,
    )


def figures_workbook(own, children, year):
    """An .xlsx of the figures, as bytes (through backend/exports.py, which escapes formula-like text)."""
    from backend.exports import workbook_bytes

    header = [
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
    rows = (
        [
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
        for f in [own, *children]
    )
    return workbook_bytes([(f"{year}年度确认", header, rows)])


def export_figures(*, actor, year, unit_id=None):
    """The figures as .xlsx bytes; every export is audited."""
    from backend.audit import service as audit_service
    from backend.db import transaction

    own, children = figures(actor=actor, year=year, unit_id=unit_id)
    with transaction():
        audit_service.record(
            actor=actor,
            action="registration.export",
            object_type="org_unit",
            object_id=own.unit.id,
            details={"year": year},
        )
    return figures_workbook(own, children, year)


# --- workbench slice (issue 11): the to-do counts, each equal to the list it links to (same conditions, same scope)


def todo_counts(*, actor, year, cap=1000):
    """Capped counts of the review queue tabs the workbench shows: {tab: CappedCount}."""
    require_permission(actor, "registration.view")
    base = scoped(select(Registration.id).where(Registration.year == year), actor, Registration.unit_id)
    return {tab: capped_count(base.where(TABS[tab][1]), cap) for tab in ("waiting", "returned", "talks")}


def oldest_waiting_days(*, actor, year, now=None):
    """Days the oldest waiting submission in scope has waited (the first row of the 待审核 tab), or None."""
    require_permission(actor, "registration.view")
    query = scoped(
        select(func.min(Registration.submitted_at)).where(Registration.year == year, TABS["waiting"][1]),
        actor,
        Registration.unit_id,
    )
    oldest = db.session.scalar(query)
    if oldest is None:
        return None
    if oldest.tzinfo is None:  # SQLite hands back naive UTC from an aggregate
        oldest = oldest.replace(tzinfo=UTC)
    return ((now or datetime.now(UTC)) - oldest).days
