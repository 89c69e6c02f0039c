"""Scoped staff reads of trips: filtered lists (the Excel export is the `travel` kind in backend/travel/exports.py)."""

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from backend.extensions import db
from backend.orgs.models import OrgUnit
from backend.orgs.scope import get_unit_in_scope, require_permission, scoped
from backend.travel.models import Trip


@dataclass
class TripFilter:
    status: str | None = None
    unit_id: int | None = None
    destination: str | None = None
    date_from: date | None = None  # departures on or after
    date_to: date | None = None
    overdue: bool = False


# --- lists slice (issue 12): one keyset page, decrypting only what a page needs

SCAN_LIMIT = 2000  # rows examined (decrypted) per request when filtering on sealed fields
_BATCH = 200


@dataclass
class TripPage:
    rows: list  # [(trip, details)], newest first
    next_after: int | None  # older rows: ?after=
    prev_before: int | None  # newer rows: ?before=
    scanned: int  # rows examined for a sealed filter (destination, dates)
    resume: (
        dict | None
    )  # the scan hit the limit before the page was full: 「已查找 N 条记录，继续查找」 with these args


def _sealed_match(filters, data):
    if filters.destination and data["destination"] != filters.destination:
        return False
    if filters.date_from and data["planned_departure"] < filters.date_from:
        return False
    return not (filters.date_to and data["planned_departure"] > filters.date_to)


def _page_query(actor, filters):
    query = scoped(select(Trip), actor, Trip.unit_id)
    if filters.unit_id:
        unit = get_unit_in_scope(actor, filters.unit_id)
        query = query.where(Trip.unit_id.in_(select(OrgUnit.id).where(OrgUnit.path.startswith(unit.path))))
    if filters.status:
        query = query.where(Trip.status == filters.status)
    if filters.overdue:
        query = query.where(Trip.overdue.is_(True))
    return query


def trip_page(*, actor, filters, after=None, before=None, limit=50, scan_limit=None):
    """One page of trips in scope, newest first, keyset on id (no OFFSET). Without a sealed filter the database does
    all the work and only the page's rows are decrypted. With one (destination and dates are encrypted) at most
    `scan_limit` rows are examined; when that ends the scan before the page is full, `resume` carries it on.

    :raises PermissionDenied, OrgUnitNotFound
    """
    require_permission(actor, "travel.view")
    query = _page_query(actor, filters)
    backwards = bool(before) and not after
    sealed = bool(filters.destination or filters.date_from or filters.date_to)
    budget = (scan_limit or SCAN_LIMIT) if sealed else limit
    cursor = before if backwards else after
    matches, seen, more = [], [], False
    while True:
        room = min(_BATCH, budget - len(seen))
        step = query.where(Trip.id > cursor if backwards else Trip.id < cursor) if cursor else query
        order = Trip.id.asc() if backwards else Trip.id.desc()
        batch = db.session.scalars(step.order_by(order).limit(room + 1)).all()
        for trip in batch:
            if len(seen) == budget or len(matches) == limit:
                more = True  # a row lies beyond what this request may show or examine
                break
            seen.append(trip.id)
            data = trip.details
            if not sealed or _sealed_match(filters, data):
                matches.append((trip, data))
        if more or len(batch) <= room:
            break
        cursor = seen[-1]
    stopped = more and len(matches) < limit
    edge = (seen[-1] if stopped else matches[-1][0].id) if more else None  # where the next scan this way starts
    first = seen[0] if seen else None  # the other way: rows beyond the first one examined
    scanned = len(seen) if sealed else 0
    if backwards:
        matches.reverse()
        return TripPage(matches, first, edge, scanned, {"before": edge} if stopped else None)
    return TripPage(matches, edge, first if after else None, scanned, {"after": edge} if stopped else None)


EXPORT_HEADER = ("姓名", "服务站", "目的地", "事由", "证件", "计划出境", "计划返回", "实际出境", "实际返回", "状态")


# --- workbench slice (issue 11)


def count_overdue(*, actor, cap=1000):
    """Overdue trips in scope, capped: the same rows as the list filtered by 逾期 (TripFilter(overdue=True))."""
    from backend.counting import capped_count

    require_permission(actor, "travel.view")
    return capped_count(scoped(select(Trip.id).where(Trip.overdue.is_(True)), actor, Trip.unit_id), cap)
