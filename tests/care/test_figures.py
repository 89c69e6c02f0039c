"""Overdue lists sorted by days overdue (keyset), per station and per assignee; coverage per unit subtree; the weekly
digest, recorded once per station and week (issue 16, C1)."""

from datetime import UTC, date, datetime

import pytest
from freezegun import freeze_time
from sqlalchemy import func, select

from backend.care import contacts, digest, figures, plans
from backend.care.models import ContactDigest
from backend.extensions import db
from tests.factories import create_veteran

NOW = datetime(2026, 6, 3, 4, 0, tzinfo=UTC)  # Wednesday 2026-06-03 12:00 CST


@pytest.fixture(autouse=True)
def frozen():
    with freeze_time(NOW):
        yield


def _veterans(world):
    a = create_veteran(station=world.x1, name="甲", placement_date=date(2026, 1, 1))  # due 04-01: 63 days
    b = create_veteran(station=world.x1, name="乙", placement_date=date(2026, 2, 1))  # due 05-02: 32 days
    c = create_veteran(station=world.x1, name="丙", placement_date=date(2026, 3, 1))  # due 05-30: 4 days
    d = create_veteran(station=world.x1, name="丁")  # contacted: not overdue
    e = create_veteran(station=world.y1, name="戊", placement_date=date(2025, 1, 1))  # another county
    plans.ensure_plans()
    contacts.record_contact(actor=world.staff_x, veteran_id=d.id, contact_on="2026-06-01", way="at_station")
    return a, b, c, d, e


def test_overdue_sorted_by_days_overdue_with_keyset(world):
    a, b, c, *_ = _veterans(world)
    page = figures.list_overdue(actor=world.staff_x, size=2)
    assert [(v.name, days) for _, v, days in page.rows] == [("甲", 63), ("乙", 32)] and page.more
    rest = figures.list_overdue(actor=world.staff_x, size=2, after=page.more)
    assert [v.name for _, v, _ in rest.rows] == ["丙"] and rest.more is None
    assert [v.name for _, v, _ in figures.list_overdue(actor=world.staff_y).rows] == ["戊"]
    assert figures.list_overdue(actor=world.staff_x, station_id=world.y1.id).rows == []  # out of scope: nothing


def test_overdue_per_assignee(world):
    a, b, *_ = _veterans(world)
    plans.update_plan(actor=world.staff_x, veteran_id=b.id, attention=False, assignee=f"staff:{world.target.id}")
    mine = figures.list_overdue(actor=world.target, staff_id=world.target.id)
    assert [v.name for _, v, _ in mine.rows] == ["乙"]
    assert figures.count_overdue(actor=world.target, staff_id=world.target.id).value == 1
    assert figures.count_overdue(actor=world.staff_x).value == 3


def test_coverage_per_unit_subtree(world):
    _veterans(world)
    total, children = figures.coverage(actor=world.supervisor_parent, unit=world.city)
    assert (total.veterans, total.covered) == (5, 1) and total.share == 20.0
    by_name = {row.unit.name: (row.veterans, row.covered) for row in children}
    assert by_name == {"青山县": (4, 1), "绿水区": (1, 0)}


def test_digest_once_per_station_and_week(world):
    _veterans(world)
    assert digest.run_weekly() >= 2
    row = db.session.scalars(select(ContactDigest).where(ContactDigest.station_id == world.x1.id)).one()
    assert (row.week_start, row.overdue, row.due_this_week) == (date(2026, 6, 1), 3, 0)
    assert digest.run_weekly() == 0
    with freeze_time(datetime(2026, 6, 7, 15, 59, tzinfo=UTC)):  # Sunday 23:59 CST: still the same week
        assert digest.run_weekly() == 0
    count = db.session.scalar(
        select(func.count()).select_from(ContactDigest).where(ContactDigest.station_id == world.x1.id)
    )
    assert count == 1
    assert [s.id for _, s in digest.latest_for(world.target)] == [world.x1.id]


def test_deceased_and_moved_veterans_leave_the_list(world):
    from backend.db import transaction
    from backend.veterans.models import Veteran

    a, b, c, *_ = _veterans(world)
    with transaction():
        db.session.get(Veteran, a.id).status = "deceased"
        db.session.get(Veteran, b.id).place(world.y1)
    assert [v.name for _, v, _ in figures.list_overdue(actor=world.staff_x).rows] == ["丙"]
    assert figures.list_overdue(actor=world.staff_y).rows and "乙" not in [
        v.name for _, v, _ in figures.list_overdue(actor=world.staff_y).rows
    ]
    assert plans.resync_moved() == 1
    assert "乙" in [v.name for _, v, _ in figures.list_overdue(actor=world.staff_y).rows]
