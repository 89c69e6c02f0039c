"""Weekly booking figures within the viewer's scope: booked, served, no-shows, cancellations by whom, utilisation.

Aggregate SQL only, always bounded by a set of stations and a range of starts_at, so each statement walks
ix_booking_station_starts_at / ix_slot_station_starts_at. A week is Monday to Sunday in China Standard Time; the
week of a booking is the week its slot starts in. Over a unit with thousands of stations the per-station table is
paged by keyset (the station's path), and the unit's own totals are one grouped statement per table.
"""

from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import case, func, select

from backend.bookings.models import Booking, BookingService, Slot
from backend.bookings.reminders import cst_day_bounds
from backend.extensions import db
from backend.orgs.models import OrgUnit
from backend.orgs.scope import get_unit_in_scope, require_permission
from backend.registration.windows import today_cst

WEEK_CHOICES = (4, 8, 13, 26)
PAGE_SIZE = 50


@dataclass
class Figures:
    """One row: counts of the bookings whose slot starts in the period, and the capacity of its open slots."""

    label: str = ""
    booked: int = 0  # every booking made for the period, whatever became of it
    served: int = 0  # completed
    no_shows: int = 0
    cancelled_by_veteran: int = 0
    cancelled_by_station: int = 0
    capacity: int = 0  # places in the period's open slots
    key: object = None  # the week's Monday, the station or the service the row is about

    @property
    def held(self):
        """Bookings that kept their place (not cancelled)."""
        return self.booked - self.cancelled_by_veteran - self.cancelled_by_station

    @property
    def utilisation(self):
        """Held bookings per open place, in percent (one decimal), or None when nothing was open."""
        return round(100 * self.held / self.capacity, 1) if self.capacity else None


@dataclass
class Report:
    unit: OrgUnit
    mondays: list
    weeks: list = field(default_factory=list)  # [Figures per week], oldest first, over the whole unit
    rows: list = field(default_factory=list)  # per station (a unit above a station) or per service (a station)
    next_after: str | None = None
    prev_before: str | None = None

    @property
    def total(self):
        total = Figures(label=f"{self.unit.name}（合计）")
        for week in self.weeks:
            _add(total, week)
        return total

    @property
    def by_service(self):
        return self.unit.level == "station"


def mondays(*, weeks=8, end=None):
    """The Mondays of the `weeks` weeks ending with the week of `end` (default: today, CST), oldest first."""
    end = end or today_cst()
    last = end - timedelta(days=end.weekday())
    return [last - timedelta(weeks=n) for n in range(weeks - 1, -1, -1)]


def weekly_report(
    *, actor, unit_id=None, weeks=8, end=None, after=None, before=None, page_size=PAGE_SIZE, with_rows=True
):
    """The figures of unit `unit_id` (default: the actor's unit) for `weeks` weeks ending with the week of `end`:
    per week over the unit, and (`with_rows`) per station (paged by path: `after` / `before`) or, at a station,
    per service.

    Raises PermissionDenied (no bookings.view), OrgUnitNotFound (unit missing or outside the actor's subtree).
    """
    require_permission(actor, "bookings.view")
    unit = get_unit_in_scope(actor, unit_id or actor.org_unit_id)
    days = mondays(weeks=weeks if weeks in WEEK_CHOICES else 8, end=end)
    report = Report(unit=unit, mondays=days)
    stations = _stations(unit)
    report.weeks = weekly(stations, days)
    if not with_rows:
        return report
    if report.by_service:
        report.rows = _service_rows(unit, days)
    else:
        page, report.next_after, report.prev_before = _station_page(unit, after, before, page_size)
        report.rows = _station_rows(page, days)
    return report


def weekly(stations, days):
    """[Figures per week] of the stations selected by `stations` (a SELECT of ids) over the weeks of `days`."""
    bounds = [cst_day_bounds(d)[0] for d in days] + [cst_day_bounds(days[-1] + timedelta(days=7))[0]]
    rows = {d: Figures(label=week_label(d), key=d) for d in days}
    week_of = {i: d for i, d in enumerate(days)}
    booked = _booking_counts(
        _week_index(Booking.starts_at, bounds),
        Booking.station_id.in_(stations),
        Booking.starts_at >= bounds[0],
        Booking.starts_at < bounds[-1],
    )
    for index, counts in booked.items():
        _set(rows[week_of[index]], counts)
    capacity = _capacity(
        _week_index(Slot.starts_at, bounds), Slot.station_id.in_(stations), *_range(Slot.starts_at, bounds)
    )
    for index, places in capacity.items():
        rows[week_of[index]].capacity = places
    return [rows[d] for d in days]


def week_label(monday):
    sunday = monday + timedelta(days=6)
    return f"{monday:%m月%d日}—{sunday:%m月%d日}"


def _range(column, bounds):
    return column >= bounds[0], column < bounds[-1]


def _week_index(column, bounds):
    """The week (0 = oldest) a moment falls in, as a CASE over the week boundaries: portable SQL, no time zone
    arithmetic in the database."""
    return case(*[(column < b, i) for i, b in enumerate(bounds[1:-1])], else_=len(bounds) - 2)


def _booking_counts(group, *conditions):
    """{group value: (booked, served, no_shows, by_veteran, by_station)} grouped in a subquery, so PostgreSQL's
    server-side parameters never have to match between SELECT and GROUP BY."""
    sub = select(group.label("g"), Booking.status, Booking.cancelled_by).where(*conditions).subquery()
    status, by = sub.c.status, sub.c.cancelled_by
    query = select(
        sub.c.g,
        func.count(),
        func.sum(case((status == "completed", 1), else_=0)),
        func.sum(case((status == "no_show", 1), else_=0)),
        func.sum(case(((status == "cancelled") & (by == "veteran"), 1), else_=0)),
        func.sum(case(((status == "cancelled") & (by == "station"), 1), else_=0)),
    ).group_by(sub.c.g)
    return {row[0]: tuple(int(v or 0) for v in row[1:]) for row in db.session.execute(query)}


def _capacity(group, *conditions):
    """{group value: places in the open slots}."""
    sub = select(group.label("g"), Slot.capacity).where(Slot.status == "open", *conditions).subquery()
    query = select(sub.c.g, func.sum(sub.c.capacity)).group_by(sub.c.g)
    return {row[0]: int(row[1] or 0) for row in db.session.execute(query)}


def _set(row, counts):
    row.booked, row.served, row.no_shows, row.cancelled_by_veteran, row.cancelled_by_station = counts


def _add(total, row):
    for name in ("booked", "served", "no_shows", "cancelled_by_veteran", "cancelled_by_station", "capacity"):
        setattr(total, name, getattr(total, name) + getattr(row, name))


def _stations(unit):
    """A SELECT of the ids of the stations in `unit`'s subtree (a prefix scan on ix_org_unit_path)."""
    return select(OrgUnit.id).where(OrgUnit.path.startswith(unit.path, autoescape=True), OrgUnit.level == "station")


def _station_page(unit, after, before, page_size):
    """One page of the unit's stations in tree order (keyset on path); returns (stations, next_after, prev_before)."""
    query = select(OrgUnit).where(OrgUnit.path.startswith(unit.path, autoescape=True), OrgUnit.level == "station")
    if before:
        page = db.session.scalars(
            query.where(OrgUnit.path < before).order_by(OrgUnit.path.desc()).limit(page_size + 1)
        ).all()
        more_before = len(page) > page_size
        page = list(reversed(page[:page_size]))
        return page, (page[-1].path if page else None), (page[0].path if more_before else None)
    if after:
        query = query.where(OrgUnit.path > after)
    page = db.session.scalars(query.order_by(OrgUnit.path).limit(page_size + 1)).all()
    more_after = len(page) > page_size
    page = page[:page_size]
    return page, (page[-1].path if more_after else None), (page[0].path if after and page else None)


def _station_rows(stations, days):
    """[Figures per station] of one page of stations over the whole range."""
    if not stations:
        return []
    bounds = [cst_day_bounds(days[0])[0], cst_day_bounds(days[-1] + timedelta(days=7))[0]]
    ids = [s.id for s in stations]
    counts = _booking_counts(Booking.station_id, Booking.station_id.in_(ids), *_range(Booking.starts_at, bounds))
    places = _capacity(Slot.station_id, Slot.station_id.in_(ids), *_range(Slot.starts_at, bounds))
    rows = []
    for station in stations:
        row = Figures(label=station.name, key=station, capacity=places.get(station.id, 0))
        if station.id in counts:
            _set(row, counts[station.id])
        rows.append(row)
    return rows


def _service_rows(station, days):
    """[Figures per service] of one station over the whole range (services without bookings included)."""
    bounds = [cst_day_bounds(days[0])[0], cst_day_bounds(days[-1] + timedelta(days=7))[0]]
    at = (Booking.station_id == station.id, *_range(Booking.starts_at, bounds))
    counts = _booking_counts(Booking.service_id, *at)
    places = _capacity(Slot.service_id, Slot.station_id == station.id, *_range(Slot.starts_at, bounds))
    services = db.session.scalars(
        select(BookingService).where(BookingService.station_id == station.id).order_by(BookingService.id)
    ).all()
    rows = []
    for service in services:
        if not service.active and service.id not in counts:
            continue
        row = Figures(label=service.name, key=service, capacity=places.get(service.id, 0))
        if service.id in counts:
            _set(row, counts[service.id])
        rows.append(row)
    return rows


def parse_week(value):
    """A date from the page's 「截至周」 field (ISO, years 2000 to next year), or None for anything else."""
    try:
        day = date.fromisoformat(value) if value else None
    except (TypeError, ValueError):
        return None
    return day if day is not None and 2000 <= day.year <= today_cst().year + 1 else None


def picker_units(*, actor, unit):
    """The units the page's picker offers: the chain from the actor's unit down to `unit`, then `unit`'s direct
    children above the grids (bounded by one level of the tree, on the parent_id index)."""
    chain_ids = [int(x) for x in unit.path.strip("/").split("/")]
    chain = db.session.scalars(
        select(OrgUnit).where(OrgUnit.id.in_(chain_ids), OrgUnit.path.startswith(actor.scope_path, autoescape=True))
    ).all()
    children = db.session.scalars(
        select(OrgUnit).where(OrgUnit.parent_id == unit.id, OrgUnit.level != "grid").order_by(OrgUnit.path)
    ).all()
    return sorted(chain, key=lambda u: u.depth) + list(children)
