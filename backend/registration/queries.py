"""Scoped reads for staff: the review queue and the figures per unit."""

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm import selectinload

from backend.counting import capped_count
from backend.extensions import db
from backend.figures import service as figures_service
from backend.orgs.models import OrgUnit
from backend.orgs.scope import get_unit_in_scope, require_permission, scoped
from backend.registration.models import Registration, Talk
from backend.veterans.models import Veteran

TABS = {
    "waiting": ("待审核", Registration.status == "submitted"),
    "returned": ("已退回", Registration.status == "returned"),
    "flagged": ("有关注事项", Registration.flagged),  # bare, as the partial index ix_registration_flagged_year_path
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


def _in_subtree(path):
    """Registrations whose unit lies under `path`: a range of registration.unit_path ("/" sorts just before "0")."""
    return Registration.unit_path >= path, Registration.unit_path < path[:-1] + "0"


def _queue_query(actor, f):
    require_permission(actor, "registration.view")
    tab = f.tab if f.tab in TABS else "waiting"
    # lists slice (issue 12): the subtree as a range of registration.unit_path (kept by a trigger), which the queue
    # indexes hold, instead of a join to org_unit that the planner can only answer by sorting the whole tab.
    path = get_unit_in_scope(actor, f.unit_id).path if f.unit_id else actor.scope_path
    query = select(Registration).where(Registration.year == f.year, TABS[tab][1], *_in_subtree(path))
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


def _rows(query, order, limit):
    """lists slice (issue 12): the page's ids first, from the queue indexes alone (an index-only walk that stops
    after `limit`), then those rows with their veterans (no join over the whole tab before the LIMIT)."""
    ids = db.session.scalars(query.with_only_columns(Registration.id).order_by(*order).limit(limit)).all()
    loaded = select(Registration).where(Registration.id.in_(ids)).options(selectinload(Registration.veteran))
    rows = {r.id: r for r in db.session.scalars(loaded)}
    return [rows[i] for i in ids if i in rows]


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
        rows = _rows(query.where(_beyond(before, not ascending)), order, limit + 1)
        has_previous = len(rows) > limit
        rows = list(reversed(rows[:limit]))
        return QueuePage(
            rows, queue_cursor(rows[-1]) if rows else None, queue_cursor(rows[0]) if has_previous and rows else None
        )
    order = (key.asc(), Registration.id.asc()) if ascending else (key.desc(), Registration.id.desc())
    if after:
        query = query.where(_beyond(after, ascending))
    rows = _rows(query, order, limit + 1)
    has_next = len(rows) > limit
    rows = rows[:limit]
    return QueuePage(
        rows, queue_cursor(rows[-1]) if has_next else None, queue_cursor(rows[0]) if after and rows else None
    )


def estimate_queue(*, actor, filters, cap=None):
    """Rows of the queue's tab with its filters as a CappedCount (shown 「约 1000+ 条」 beyond `cap`)."""
    return capped_count(_queue_query(actor, filters).with_only_columns(Registration.id), cap or ESTIMATE_CAP)


def tab_counts(*, actor, year, cap=ESTIMATE_CAP):
    """CappedCount per tab: exact up to `cap` (it matches the list); beyond, the rolled-up figure (「约 N」)."""
    require_permission(actor, "registration.view")
    base = select(Registration.id).where(Registration.year == year, *_in_subtree(actor.scope_path))
    return _with_estimates({tab: capped_count(base.where(cond), cap) for tab, (_, cond) in TABS.items()}, actor, year)


def _with_estimates(counts, actor, year):
    """Counts that reached their cap get the actor's subtree total from the rollup (unit_stat has a column per tab)."""
    if not any(c.capped for c in counts.values()):
        return counts
    stat = figures_service.find_stat(actor.org_unit_id, year)
    if stat is None:
        return counts
    return {
        tab: replace(c, estimate=getattr(stat, tab), as_of=stat.computed_at) if c.capped else c
        for tab, c in counts.items()
    }


@dataclass
class Figures:
    unit: OrgUnit
    veterans: int
    submitted: int
    approved: int
    returned: int
    overdue: int
    median_review_days: float | None  # from the summed review-day histogram: shown as 「约 N 天」
    as_of: datetime | None = None  # when the rollup counted these (None: not rolled up yet)

    empty_reason = "暂无应确认人员"

    def share(self, n):
        """A percentage of the veterans, or None when there is nobody to count (shown as 「—」, never 0.0%)."""
        return round(100 * n / self.veterans, 1) if self.veterans else None

    @property
    def as_of_text(self):
        return figures_service.as_of_text(self.as_of)


def figures(*, actor, year, unit_id=None, with_median=True):
    """Per child unit of `unit_id` (default: the actor's unit): shares submitted, approved, returned, overdue and
    the median review time in days, read from the rollup (backend/figures: unit_stat primary keys, never the
    registrations). Returns (own, [children]); each carries `as_of`. Raises PermissionDenied, OrgUnitNotFound."""
    require_permission(actor, "registration.view")
    unit = get_unit_in_scope(actor, unit_id or actor.org_unit_id)
    own = _figures(unit, figures_service.find_stat(unit.id, year), with_median)
    children = figures_service.children_with_stats(unit, year)
    return own, [_figures(child, stat, with_median) for child, stat in children]


def _figures(unit, stat, with_median=True):
    if stat is None:
        missing = Figures(unit, 0, 0, 0, 0, 0, None)
        missing.empty_reason = figures_service.NOT_YET
        return missing
    return Figures(
        unit=unit,
        veterans=stat.veterans,
        submitted=stat.submitted,
        approved=stat.approved,
        returned=stat.returned,
        overdue=stat.overdue,
        median_review_days=figures_service.median_days(stat.review_days) if with_median else None,
        as_of=stat.computed_at,
    )


# The figures export is the `registration_figures` kind in backend/registration/exports.py.


# --- workbench slice (issue 11): the to-do counts, each equal to the list it links to (same conditions, same scope)


def todo_counts(*, actor, year, cap=1000):
    """Capped counts of the review queue tabs the workbench shows: {tab: CappedCount}."""
    require_permission(actor, "registration.view")
    base = select(Registration.id).where(Registration.year == year, *_in_subtree(actor.scope_path))
    counts = {tab: capped_count(base.where(TABS[tab][1]), cap) for tab in ("waiting", "returned", "talks")}
    return _with_estimates(counts, actor, year)


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
