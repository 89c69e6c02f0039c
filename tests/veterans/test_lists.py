"""The registry list: (unit_path, id) keyset order, cursors, scope, unit_path upkeep, and the PostgreSQL plans."""

import pytest
from sqlalchemy import select, text

from backend.extensions import db
from backend.veterans import queries, service
from backend.veterans.models import Veteran
from tests.factories import create_staff, create_unit, create_veteran
from tests.helpers import explain_plans

F = queries.VeteranFilter


@pytest.fixture
def enqueued(monkeypatch):
    monkeypatch.setattr("backend.tasks.enqueue", lambda task, *args, **kw: None)


@pytest.fixture
def registry(world):
    """Veterans at two stations of county X and one of county Y, created interleaved so ids do not follow units."""
    x2 = create_unit(parent=world.x, name="青山第二服务站")
    rows = {"x1": [], "x1_grid": [], "x2": [], "y1": []}
    for _ in range(3):
        rows["x2"].append(create_veteran(station=x2))
        rows["x1_grid"].append(create_veteran(station=world.x1, grid=world.x1_grid))
        rows["y1"].append(create_veteran(station=world.y1))
        rows["x1"].append(create_veteran(station=world.x1))
    return x2, rows


def _ids(page):
    return [v.id for v in page.rows]


def _walk(actor, filters=F(), limit=2):
    """Every page forward, then every page back from the last one: (forward ids, backward ids)."""
    pages = [queries.list_veterans(actor=actor, filters=filters, limit=limit)]
    while pages[-1].next_after:
        pages.append(queries.list_veterans(actor=actor, filters=filters, after=pages[-1].next_after, limit=limit))
    back = [pages[-1]]
    while back[-1].prev_before:
        back.append(queries.list_veterans(actor=actor, filters=filters, before=back[-1].prev_before, limit=limit))
    return [i for p in pages for i in _ids(p)], [i for p in reversed(back) for i in _ids(p)], pages


def test_station_by_station_ids_ascending_within_a_unit(world, registry):
    x2, rows = registry
    units = sorted([(world.x1.path, rows["x1"]), (world.x1_grid.path, rows["x1_grid"]), (x2.path, rows["x2"])])
    expected = [v.id for _, vets in units for v in sorted(vets, key=lambda v: v.id)]
    forward, backward, pages = _walk(world.staff_x)
    assert forward == expected == backward
    assert pages[0].prev_before is None and pages[-1].next_after is None
    assert len(pages) == 5 and len(pages[-1].rows) == 1  # 9 rows, 2 a page: the last page holds one


def test_scope_filters_and_grid(world, registry):
    x2, rows = registry
    station_actor = create_staff(unit=x2, roles=("station_staff",))
    assert _walk(station_actor)[0] == [v.id for v in rows["x2"]]
    grid = queries.list_veterans(actor=world.staff_x, filters=F(grid_id=world.x1_grid.id))
    assert _ids(grid) == [v.id for v in rows["x1_grid"]]
    assert queries.list_veterans(actor=world.staff_y, filters=F(grid_id=world.x1_grid.id)).rows == []
    unit = queries.list_veterans(actor=world.supervisor_parent, filters=F(unit_id=world.y1.id))
    assert _ids(unit) == [v.id for v in rows["y1"]]
    named = queries.list_veterans(actor=world.staff_x, filters=F(name=rows["x2"][1].name))
    assert _ids(named) == [rows["x2"][1].id]
    service.move_veteran(actor=world.staff_x, veteran_id=rows["x1"][0].id, station_id=x2.id)
    with_status = rows["x2"][2]
    with_status.status = "deceased"
    db.session.commit()
    assert _ids(queries.list_veterans(actor=world.staff_x, filters=F(status="deceased"))) == [with_status.id]
    assert rows["x1"][0].id in _walk(station_actor)[0]
    assert queries.estimate_count(actor=station_actor, filters=F()) == 4


def test_cursor_outside_the_scope_gives_the_first_page_not_a_leak(world, registry):
    x2, rows = registry
    station_actor = create_staff(unit=x2, roles=("station_staff",))
    first = _ids(queries.list_veterans(actor=station_actor, filters=F(), limit=2))
    for cursor in (rows["y1"][0].id, rows["x1"][0].id, 0, -5, 2**70, "abc", 10**12):
        for key in ("after", "before"):
            page = queries.list_veterans(actor=station_actor, filters=F(), limit=2, **{key: cursor})
            assert _ids(page) == first
            assert set(_ids(page)) <= {v.id for v in rows["x2"]}


def test_unit_path_follows_create_import_move_and_any_unit_change(world, enqueued):
    from backend.veterans import importer
    from tests.veterans.test_import import sheet_bytes

    created = create_veteran(station=world.x1, grid=world.x1_grid)
    assert created.unit_path == world.x1_grid.path
    city_staff = create_staff(unit=world.city, roles=("station_staff",))
    service.move_veteran(actor=city_staff, veteran_id=created.id, station_id=world.y1.id)
    db.session.refresh(created)
    assert (created.unit_id, created.unit_path) == (world.y1.id, world.y1.path)
    number = "11010519491231002X"
    sheet = sheet_bytes([["甲", number, None, None, world.x1.name, world.x1_grid.name, None, None, None]])
    importer.run_import(importer.start_import(actor=world.staff_x, filename="a.xlsx", content=sheet).id)
    imported = db.session.scalar(select(Veteran).where(Veteran.name == "甲", Veteran.unit_id == world.x1_grid.id))
    assert imported.unit_path == world.x1_grid.path
    # Code that sets unit_id alone (no place()) still gets the right path from the flush hook.
    imported.unit_id, imported.grid_id = world.x1.id, None
    db.session.commit()
    db.session.refresh(imported)
    assert imported.unit_path == world.x1.path
    stored = db.session.execute(text("SELECT v.unit_path, o.path FROM veteran v JOIN org_unit o ON o.id = v.unit_id"))
    assert all(a == b for a, b in stored)


# --- PostgreSQL plans: an index range in list order, no Sort, for a station, a county and the province


def _seed(world, per_unit=250):
    """A province of 2 counties x 3 stations x 2 grids; ids clustered unit by unit (a station-by-station import)."""
    province = create_unit(name="计划省")
    stations, grids = [], []
    for c in range(2):
        county = create_unit(parent=create_unit(parent=province, name=f"市{c}"), name=f"县{c}")
        for s in range(3):
            station = create_unit(parent=county, name=f"站{s}")
            stations.append(station)
            grids += [(station, create_unit(parent=station, name=f"格{g}")) for g in range(2)]
    units = [(s, None) for s in stations] + grids
    for station, grid in units:
        unit = grid or station
        db.session.execute(
            text(
                "INSERT INTO veteran (name, id_number_enc, id_number_hmac, gender, birth_date, station_id, grid_id,"
                " unit_id, unit_path, party_member, status, created_at, updated_at, version_id)"
                " SELECT 'v' || g, 'x', 'h' || :unit || '-' || g, 'M', '1980-01-01', :station, :grid, :unit, :path,"
                " false, 'active', now(), now(), 1 FROM generate_series(1, :n) g"
            ),
            {
                "unit": unit.id,
                "station": station.id,
                "grid": grid.id if grid else None,
                "path": unit.path,
                "n": per_unit,
            },
        )
    return province, stations


def _plans(connection, call, table="veteran"):
    """EXPLAIN of the page queries (ORDER BY) on `table` that `call()` sends."""
    return explain_plans(connection, call, lambda sql: "ORDER BY" in sql and f"FROM {table}" in sql)


@pytest.mark.postgres
def test_explain_index_range_and_no_sort_for_every_subtree(world, _db, as_owner):
    province, stations = _seed(world)
    with as_owner():
        db.session.execute(text("ANALYZE veteran"))
    county = db.session.get(type(province), stations[0].parent_id)
    for unit in (stations[1], county, province):
        actor = create_staff(unit=unit, roles=("station_staff",))
        first = queries.list_veterans(actor=actor, filters=F())
        last = db.session.scalar(
            select(Veteran.id)
            .where(*queries.path_range(unit.path))
            .order_by(Veteran.unit_path.desc(), Veteran.id.desc())
            .limit(1)
        )
        for kwargs in ({}, {"after": first.next_after}, {"before": last}, {"filters": F(status="active")}):
            kwargs = {"filters": F(), **kwargs}
            (plan,) = _plans(_db, lambda: queries.list_veterans(actor=actor, **kwargs))  # noqa: B023
            assert "Index" in plan and "unit_path_id" in plan, plan
            assert "Sort" not in plan and "Seq Scan" not in plan, plan
