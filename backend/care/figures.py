"""Overdue lists (per station, per assignee; most overdue first, keyset) and coverage per unit (subtree counts)."""

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, or_, select

from backend.care.models import ContactPlan
from backend.counting import capped_count
from backend.extensions import db
from backend.orgs.models import OrgUnit
from backend.orgs.scope import require_permission, subtree_unit_ids
from backend.registration.windows import today_cst
from backend.veterans.models import Veteran

PAGE_SIZE = 50


@dataclass
class OverduePage:
    rows: list  # (plan, veteran, days overdue)
    more: str | None


def _cursor(value):
    try:
        day, ident = (value or "").split("_", 1)
        return date.fromisoformat(day), int(ident)
    except (TypeError, ValueError):
        return None


def _live(query):
    """Only plans of active veterans still at the plan's station (a move is resynced by the weekly job; until then
    the old station no longer lists the veteran and the new one does not yet)."""
    return query.join(Veteran, Veteran.id == ContactPlan.veteran_id).where(
        Veteran.status == "active", Veteran.station_id == ContactPlan.station_id
    )


def overdue_query(*, actor, station_id=None, staff_id=None, grid_worker=None, today=None):
    """Plans due before today within the actor's scope, for one station (and assignee) or the actor's whole subtree."""
    require_permission(actor, "care.view")
    today = today or today_cst()
    query = _live(select(ContactPlan))
    query = query.where(ContactPlan.due_on < today, ContactPlan.station_id.in_(subtree_unit_ids(actor)))
    if station_id is not None:
        query = query.where(ContactPlan.station_id == station_id)
    if staff_id is not None:
        query = query.where(ContactPlan.assignee_staff_id == staff_id)
    if grid_worker:
        query = query.where(ContactPlan.assignee_grid_worker == grid_worker)
    return query


def list_overdue(*, actor, station_id=None, staff_id=None, grid_worker=None, after=None, size=PAGE_SIZE, today=None):
    """Overdue plans, most days overdue first: keyset on (due_on, id)."""
    today = today or today_cst()
    query = overdue_query(actor=actor, station_id=station_id, staff_id=staff_id, grid_worker=grid_worker, today=today)
    cursor = _cursor(after)
    if cursor:
        day, ident = cursor
        query = query.where(or_(ContactPlan.due_on > day, (ContactPlan.due_on == day) & (ContactPlan.id > ident)))
    plans = db.session.scalars(query.order_by(ContactPlan.due_on, ContactPlan.id).limit(size + 1)).all()
    more = f"{plans[size - 1].due_on.isoformat()}_{plans[size - 1].id}" if len(plans) > size else None
    plans = plans[:size]
    veterans = {
        v.id: v for v in db.session.scalars(select(Veteran).where(Veteran.id.in_([p.veteran_id for p in plans])))
    }
    return OverduePage([(p, veterans.get(p.veteran_id), (today - p.due_on).days) for p in plans], more)


def count_overdue(*, actor, staff_id=None, today=None):
    """A capped count for the workbench card (backend/counting.py)."""
    return capped_count(overdue_query(actor=actor, staff_id=staff_id, today=today))


def count_due_between(station_id, start, end):
    """Plans of a station due in [start, end) (the digest's "due this week")."""
    return db.session.scalar(
        _live(select(func.count()).select_from(ContactPlan)).where(
            ContactPlan.station_id == station_id, ContactPlan.due_on >= start, ContactPlan.due_on < end
        )
    )


def count_overdue_at(station_id, today):
    return db.session.scalar(
        _live(select(func.count()).select_from(ContactPlan)).where(
            ContactPlan.station_id == station_id, ContactPlan.due_on < today
        )
    )


@dataclass
class CoverageRow:
    unit: object
    veterans: int
    covered: int

    @property
    def share(self):
        return None if not self.veterans else round(100 * self.covered / self.veterans, 1)


def coverage_of(unit, today=None):
    """One unit's subtree: active veterans, and those contacted within their interval (covered_until >= today)."""
    today = today or today_cst()
    veterans = db.session.scalar(
        select(func.count())
        .select_from(Veteran)
        .where(Veteran.status == "active", Veteran.unit_path.startswith(unit.path, autoescape=True))
    )
    covered = db.session.scalar(
        select(func.count())
        .select_from(ContactPlan)
        .join(Veteran, Veteran.id == ContactPlan.veteran_id)
        .where(
            ContactPlan.unit_path.startswith(unit.path, autoescape=True),
            ContactPlan.covered_until >= today,
            Veteran.status == "active",
        )
    )
    return CoverageRow(unit, veterans or 0, covered or 0)


def coverage(*, actor, unit, today=None):
    """The unit's coverage and each child unit's (the unit must be in scope: the caller resolved it)."""
    require_permission(actor, "care.view")
    children = db.session.scalars(select(OrgUnit).where(OrgUnit.parent_id == unit.id).order_by(OrgUnit.id)).all()
    return coverage_of(unit, today), [coverage_of(child, today) for child in children]


def week_bounds(today=None):
    """The CST Monday of this week, and the next Monday."""
    today = today or today_cst()
    monday = today - timedelta(days=today.weekday())
    return monday, monday + timedelta(days=7)
