"""Weekly booking figures (backend/bookings/figures.py): counts per CST week, cancellations by whom, utilisation over
the open slots, per station (paged) and per service, within the viewer's scope."""

from datetime import date

import pytest

from backend.bookings import figures
from backend.orgs.scope import OrgUnitNotFound
from tests.authz.booking_figures_cells import cst, make_booking, make_service, make_slot
from tests.factories import create_unit, create_veteran

END = date(2026, 11, 25)  # a Wednesday: the last week is Mon 23 – Sun 29 November
LAST, PREVIOUS = date(2026, 11, 23), date(2026, 11, 16)


def _vet(world):
    return create_veteran(station=world.x1)


def _week(report, monday):
    return next(w for w in report.weeks if w.key == monday)


@pytest.fixture
def booked(world):
    """Station X1: a week with every outcome, a cancelled slot, an empty slot, and a quieter week before it."""
    service = make_service(world.x1)
    slot = make_slot(service, cst(LAST, "09:30"), capacity=5)
    for status, by in [("completed", None)] * 2 + [("no_show", None), ("booked", None), ("checked_in", None)]:
        make_booking(slot, _vet(world), status=status, cancelled_by=by)
    make_booking(slot, _vet(world), status="cancelled", cancelled_by="veteran")
    make_booking(slot, _vet(world), status="cancelled", cancelled_by="station")
    make_booking(slot, _vet(world), status="cancelled", cancelled_by="station")
    dropped = make_slot(service, cst(LAST, "10:00"), capacity=5, status="cancelled")  # the clerk was ill
    make_booking(dropped, _vet(world), status="cancelled", cancelled_by="station")
    make_slot(service, cst(LAST, "10:30"), capacity=3)
    earlier = make_slot(service, cst(PREVIOUS, "14:00"), capacity=4)
    make_booking(earlier, _vet(world), status="completed")
    return service


def test_a_week_counts_every_outcome_and_who_cancelled(world, booked):
    report = figures.weekly_report(actor=world.staff_x, unit_id=world.x1.id, weeks=4, end=END)
    assert [w.key for w in report.weeks] == [date(2026, 11, 2), date(2026, 11, 9), PREVIOUS, LAST]
    week = _week(report, LAST)
    assert (week.booked, week.served, week.no_shows) == (9, 2, 1)
    assert (week.cancelled_by_veteran, week.cancelled_by_station) == (1, 3)  # never confused
    assert week.capacity == 8  # the open slots only: 5 + 3, the cancelled slot's places are gone
    assert week.held == 5 and week.utilisation == 62.5
    assert week.label == "11月23日—11月29日"


def test_utilisation_per_week_and_none_when_nothing_was_open(world, booked):
    report = figures.weekly_report(actor=world.staff_x, unit_id=world.x1.id, weeks=4, end=END)
    assert _week(report, PREVIOUS).utilisation == 25.0
    first = _week(report, date(2026, 11, 2))
    assert first.booked == 0 and first.capacity == 0 and first.utilisation is None
    total = report.total
    assert (total.booked, total.served, total.capacity) == (10, 3, 12)


def test_a_week_runs_monday_to_sunday_in_china_standard_time(world):
    service = make_service(world.x1)
    for day, hhmm in [(date(2026, 11, 22), "23:30"), (LAST, "00:00"), (date(2026, 11, 29), "23:30")]:
        make_booking(make_slot(service, cst(day, hhmm)), _vet(world))
    make_booking(make_slot(service, cst(date(2026, 11, 30), "00:00")), _vet(world))  # the next week: outside
    report = figures.weekly_report(actor=world.staff_x, unit_id=world.x1.id, weeks=4, end=END)
    assert _week(report, PREVIOUS).booked == 1  # Sunday 23:30 CST is still the week before (Sunday 15:30 UTC)
    assert _week(report, LAST).booked == 2
    assert report.total.booked == 3


def test_a_station_is_reported_per_service(world, booked):
    other = make_service(world.x1, name="政策咨询")
    make_booking(make_slot(other, cst(LAST, "15:00"), capacity=2), _vet(world), status="no_show")
    report = figures.weekly_report(actor=world.staff_x, unit_id=world.x1.id, weeks=4, end=END)
    assert report.by_service
    rows = {r.label: r for r in report.rows}
    assert set(rows) == {"档案查阅", "政策咨询"}
    assert (rows["档案查阅"].booked, rows["档案查阅"].capacity) == (10, 12)
    assert (rows["政策咨询"].no_shows, rows["政策咨询"].utilisation) == (1, 50.0)


def test_a_county_is_reported_per_station(world, booked):
    x2 = create_unit(parent=world.x, name="石桥镇服务站")
    make_service(x2)
    report = figures.weekly_report(actor=world.staff_x, unit_id=world.x.id, weeks=4, end=END)
    assert not report.by_service
    rows = {r.label: r for r in report.rows}
    assert set(rows) == {world.x1.name, x2.name}
    assert rows[world.x1.name].booked == 10 and rows[x2.name].booked == 0
    assert report.total.booked == 10


def test_stations_are_paged_by_keyset_both_ways(world):
    for n in range(3):
        create_unit(parent=world.x, name=f"测试镇{n}服务站")
    first = figures.weekly_report(actor=world.staff_x, unit_id=world.x.id, end=END, page_size=2)
    assert len(first.rows) == 2 and first.next_after and first.prev_before is None
    second = figures.weekly_report(
        actor=world.staff_x, unit_id=world.x.id, end=END, page_size=2, after=first.next_after
    )
    assert len(second.rows) == 2 and second.prev_before and second.next_after is None
    back = figures.weekly_report(
        actor=world.staff_x, unit_id=world.x.id, end=END, page_size=2, before=second.prev_before
    )
    assert [r.key.id for r in back.rows] == [r.key.id for r in first.rows]
    names = [r.label for r in first.rows + second.rows]
    assert len(set(names)) == 4  # x1 and the three new stations, none twice


def test_the_scope_bounds_the_figures(world, booked):
    make_booking(make_slot(make_service(world.y1), cst(LAST)), create_veteran(station=world.y1))
    city = figures.weekly_report(actor=world.supervisor_parent, unit_id=world.city.id, weeks=4, end=END)
    assert city.total.booked == 11
    mine = figures.weekly_report(actor=world.staff_y, weeks=4, end=END)
    assert mine.unit.id == world.y.id and mine.total.booked == 1
    with pytest.raises(OrgUnitNotFound):
        figures.weekly_report(actor=world.staff_y, unit_id=world.x1.id)
    with pytest.raises(OrgUnitNotFound):
        figures.weekly_report(actor=world.staff_x, unit_id=world.city.id)


def test_without_bookings_view_the_figures_are_refused(world):
    from backend.errors import PermissionDenied

    with pytest.raises(PermissionDenied):
        figures.weekly_report(actor=world.sys_admin)


def test_the_week_range_takes_only_the_offered_choices(world):
    assert len(figures.weekly_report(actor=world.staff_x, weeks=13, end=END).weeks) == 13
    assert len(figures.weekly_report(actor=world.staff_x, weeks=1000, end=END).weeks) == 8
    assert figures.mondays(weeks=2, end=date(2026, 11, 29)) == [PREVIOUS, LAST]


@pytest.mark.parametrize("text", ["", "x", "2026-13-01", "0001-01-01", "9999-12-31", None])
def test_a_bad_week_end_is_ignored(text):
    assert figures.parse_week(text) is None


def test_the_picker_offers_the_chain_in_scope_and_the_children(world):
    units = figures.picker_units(actor=world.staff_x, unit=world.x1)
    assert [u.id for u in units] == [world.x.id, world.x1.id]  # not the city above the actor, not the grid below
    units = figures.picker_units(actor=world.supervisor_parent, unit=world.city)
    assert [u.id for u in units] == [world.city.id, world.x.id, world.y.id]
