"""The figures rollup: subtree sums equal direct counts, statuses and tabs, coverage, the histogram median, scope,
the as-of time, the empty state, idempotent re-runs, and the beat schedule."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from backend.db import transaction
from backend.extensions import db
from backend.figures import rollup as figures_rollup
from backend.figures import service as figures_service
from backend.figures.models import COUNT_COLUMNS, UnitStat
from backend.orgs.models import OrgUnit
from backend.orgs.scope import OrgUnitNotFound
from backend.registration import queries as registration_queries
from backend.registration.models import Registration, Talk
from backend.veterans import queries as veterans_queries
from backend.veterans.models import Veteran
from tests.factories import create_veteran
from tests.helpers import refresh_figures

YEAR = 2027
T0 = datetime(2027, 2, 1, 2, 0, tzinfo=UTC)


def _registration(veteran, status, *, year=YEAR, review_days=None, flagged=False, submitted=True):
    decided = T0 + timedelta(days=review_days, hours=1) if review_days is not None else None
    with transaction():
        reg = Registration(
            veteran_id=veteran.id,
            unit_id=veteran.unit_id,
            year=year,
            status=status,
            return_reasons={},
            flagged=flagged,
            submitted_at=T0 if status == "submitted" else None,
            first_submitted_at=T0 if submitted else None,
            decided_at=decided,
        )
        db.session.add(reg)
    return reg


@pytest.fixture
def data(world):
    """Veterans over two stations and a grid; registrations in every status, one flagged with a scheduled talk."""
    vets = [
        create_veteran(station=world.x1, grid=world.x1_grid, grid_worker="网格员甲"),
        create_veteran(station=world.x1, grid=world.x1_grid),
        create_veteran(station=world.x1),
        create_veteran(station=world.x1, status="deceased"),
        create_veteran(station=world.y1),
        create_veteran(station=world.y1, grid_worker="网格员乙"),
    ]
    _registration(vets[0], "approved", review_days=3)
    _registration(vets[1], "approved", review_days=8)
    _registration(vets[2], "submitted", flagged=True)
    _registration(vets[4], "returned")
    _registration(vets[5], "overdue", submitted=False)
    _registration(vets[4], "approved", year=YEAR - 1, review_days=120)
    flagged = db.session.scalars(select(Registration).where(Registration.flagged.is_(True))).one()
    with transaction():
        db.session.add(
            Talk(
                registration_id=flagged.id,
                concern="关注",
                scheduled_at=T0,
                place="服务站",
                created_by_id=world.staff_x.id,
            )
        )
    return vets


def _direct(unit, year):
    """The figures of `unit`'s subtree counted straight from the source tables (what the rollup must equal)."""
    subtree = select(OrgUnit.id).where(OrgUnit.path.startswith(unit.path))
    vets = db.session.scalars(select(Veteran).where(Veteran.unit_id.in_(subtree))).all()
    regs = db.session.scalars(
        select(Registration).where(Registration.unit_id.in_(subtree), Registration.year == year)
    ).all()
    talks = set(db.session.scalars(select(Talk.registration_id).where(Talk.status == "scheduled")))
    return {
        "veterans_all": len(vets),
        "with_station": sum(v.station_id is not None for v in vets),
        "with_grid": sum(v.grid_id is not None for v in vets),
        "with_worker": sum(v.grid_id is not None and bool(v.grid_worker) for v in vets),
        "veterans": sum(v.status == "active" for v in vets),
        "submitted": sum(r.first_submitted_at is not None for r in regs),
        "waiting": sum(r.status == "submitted" for r in regs),
        "returned": sum(r.status == "returned" for r in regs),
        "flagged": sum(bool(r.flagged) for r in regs),
        "approved": sum(r.status == "approved" for r in regs),
        "overdue": sum(r.status == "overdue" for r in regs),
        "talks": sum(r.id in talks for r in regs),
    }


def test_rollup_equals_direct_counts_for_every_subtree(world, data):
    refresh_figures(years=(YEAR, YEAR - 1))
    for unit in (world.province, world.city, world.x, world.y, world.x1, world.x1_grid, world.y1):
        for year in (YEAR, YEAR - 1):
            stat = figures_service.find_stat(unit.id, year)
            assert {c: getattr(stat, c) for c in COUNT_COLUMNS} == _direct(unit, year), (unit.name, year)
    city = figures_service.find_stat(world.city.id, YEAR)
    assert (city.veterans_all, city.veterans, city.approved, city.talks) == (6, 5, 2, 1)
    assert city.review_days == {"3": 1, "8": 1}
    assert figures_service.find_stat(world.y.id, YEAR - 1).review_days == {"91": 1}  # 120 days: the 91+ bucket


def test_median_comes_from_summed_histograms():
    assert figures_service.median_days({}) is None
    assert figures_service.median_days({"3": 1}) == 3.0
    assert figures_service.median_days({"3": 1, "8": 1}) == 5.5
    assert figures_service.median_days({"0": 1, "2": 0, "91": 2}) == 91.0
    assert figures_service.median_days({"1": 2, "4": 1, "9": 1}) == 2.5


def test_figures_read_the_rollup_with_as_of(world, data):
    own, _ = registration_queries.figures(actor=world.supervisor_parent, year=YEAR)
    assert own.as_of is None and own.empty_reason == "该年度统计尚未生成" and own.as_of_text == "该年度统计尚未生成"
    at = datetime(2027, 2, 1, 16, 5, tzinfo=UTC)  # 2027-02-02 00:05 CST
    figures_rollup.rollup(years=(YEAR,), now=at)
    own, children = registration_queries.figures(actor=world.supervisor_parent, year=YEAR)
    assert (own.veterans, own.submitted, own.approved, own.returned, own.overdue) == (5, 4, 2, 1, 1)
    assert own.median_review_days == 5.5 and own.as_of == at and own.as_of_text == "统计截至 2027-02-02 00:05"
    by_id = {c.unit.id: c for c in children}
    assert set(by_id) == {world.x.id, world.y.id}
    assert (by_id[world.x.id].veterans, by_id[world.x.id].approved, by_id[world.y.id].returned) == (3, 2, 1)
    assert registration_queries.figures(actor=world.staff_x, year=YEAR, with_median=False)[0].median_review_days is None
    create_veteran(station=world.x1)  # counted at the next rollup, not before: the page says when it was counted
    assert registration_queries.figures(actor=world.staff_x, year=YEAR)[0].veterans == 3
    refresh_figures(years=(YEAR,))
    assert registration_queries.figures(actor=world.staff_x, year=YEAR)[0].veterans == 4


def test_coverage_reads_the_newest_rollup(world, data):
    own, _ = veterans_queries.coverage(actor=world.supervisor_parent)
    assert own.total == 0 and own.as_of is None and own.empty_reason == "统计尚未生成"
    refresh_figures()
    own, children = veterans_queries.coverage(actor=world.supervisor_parent)
    assert (own.total, own.with_station, own.with_grid, own.with_worker) == (6, 6, 2, 1)
    assert {c.unit.name: c.total for c in children} == {"青山县": 4, "绿水区": 2} and own.as_of is not None


def test_figures_keep_the_data_scope(world, data):
    refresh_figures(years=(YEAR,))
    with pytest.raises(OrgUnitNotFound):
        registration_queries.figures(actor=world.staff_y, year=YEAR, unit_id=world.x.id)
    with pytest.raises(OrgUnitNotFound):
        veterans_queries.coverage(actor=world.staff_y, unit_id=world.x1.id)
    own, children = registration_queries.figures(actor=world.staff_y, year=YEAR)
    assert own.unit.id == world.y.id and [c.unit.id for c in children] == [world.y1.id]


def test_rerun_is_idempotent(world, data):
    ids = [u.id for u in world.units.values()]
    rows = lambda: db.session.execute(  # noqa: E731
        select(UnitStat).where(UnitStat.unit_id.in_(ids)).order_by(UnitStat.unit_id, UnitStat.year)
    ).scalars()
    snapshot = lambda: [(s.unit_id, s.year, *(getattr(s, c) for c in COUNT_COLUMNS), s.review_days) for s in rows()]  # noqa: E731
    refresh_figures(years=(YEAR, YEAR - 1))
    first = snapshot()
    refresh_figures(years=(YEAR, YEAR - 1))
    db.session.expire_all()
    assert snapshot() == first and len(first) == 2 * len(ids)


def test_capped_tab_counts_show_the_rolled_up_total(world, data):
    for _ in range(3):
        _registration(create_veteran(station=world.x1), "submitted")
    exact = registration_queries.tab_counts(actor=world.staff_x, year=YEAR, cap=1)
    assert str(exact["waiting"]) == "1+" and str(exact["returned"]) == "0"  # no rollup yet: the cap alone
    refresh_figures(years=(YEAR,))
    counts = registration_queries.tab_counts(actor=world.staff_x, year=YEAR, cap=1)
    assert str(counts["waiting"]) == "约 4" and counts["waiting"].as_of_text.startswith("统计截至 ")
    assert (
        str(counts["approved"]) == "约 2" and str(counts["returned"]) == "0" and counts["returned"].as_of_text is None
    )
    todo = registration_queries.todo_counts(actor=world.staff_x, year=YEAR, cap=1)
    assert str(todo["waiting"]) == "约 4"
    assert str(registration_queries.tab_counts(actor=world.staff_x, year=YEAR)["waiting"]) == "4"  # under the cap


def test_rollup_task_is_scheduled(app):
    from backend.figures.tasks import rollup

    assert rollup.name == "figures.rollup"
    schedule = {entry["task"]: entry["schedule"] for entry in app.config["CELERY_BEAT_SCHEDULE"].values()}
    assert schedule["figures.rollup"] == 600.0
    assert "backend.figures.tasks" in app.config["CELERY_TASK_MODULES"]
    assert figures_rollup.rollup_years(datetime(2026, 12, 31, 16, 0, tzinfo=UTC)) == (2027, 2026)  # CST new year
