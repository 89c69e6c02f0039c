"""预约统计 in the portal (/bookings/figures), the workbench's 8-week chart and its JSON, the matrix cells, and a
hostile sweep over the page's own parameters."""

from datetime import timedelta

import pytest

from backend.registration.windows import today_cst
from tests.authz import test_matrix
from tests.authz.booking_figures_cells import BOOKING_FIGURES_CELLS, cst, make_booking, make_service, make_slot
from tests.authz.cells import PRINCIPALS
from tests.factories import create_veteran
from tests.helpers import portal_as


@pytest.fixture
def this_week(world):
    """Station X1 this week: one completed, one no-show, one cancelled by the station; a slot of capacity 4."""
    monday = today_cst() - timedelta(days=today_cst().weekday())
    slot = make_slot(make_service(world.x1), cst(monday, "09:30"), capacity=4)
    make_booking(slot, create_veteran(station=world.x1), status="completed")
    make_booking(slot, create_veteran(station=world.x1), status="no_show")
    make_booking(slot, create_veteran(station=world.x1), status="cancelled", cancelled_by="station")
    return monday


def test_the_page_shows_the_weeks_and_the_stations_of_the_viewers_unit(portal_app, world, this_week):
    page = portal_as(portal_app, world.staff_x).get("/bookings/figures", expect=200).get_data(as_text=True)
    assert "青山县：服务预约周统计" in page and 'data-testid="figures-weeks"' in page
    assert f'data-week="{this_week.isoformat()}"' in page
    assert world.x1.name in page and f"/bookings/figures?unit={world.x1.id}" in page  # drill down to the station
    assert "50%" in page  # 2 held of 4 places
    assert 'data-chart-url="/charts/bookings.json?unit=' in page


def test_a_station_page_lists_its_services(portal_app, world, this_week):
    client = portal_as(portal_app, world.staff_x)
    page = client.get(f"/bookings/figures?unit={world.x1.id}&weeks=4", expect=200).get_data(as_text=True)
    assert "各服务项目" in page and "档案查阅" in page
    assert page.count("data-week=") == 4


def test_a_unit_outside_the_scope_is_not_found(portal_app, world):
    portal_as(portal_app, world.staff_y).get(f"/bookings/figures?unit={world.x1.id}", expect=404)
    portal_as(portal_app, world.auditor).get("/bookings/figures", expect=403)


def test_the_chart_json_has_eight_weeks_of_booked_served_and_no_shows(portal_app, world, this_week):
    data = portal_as(portal_app, world.staff_x).get("/charts/bookings.json", expect=200).get_json()
    assert data["title"] == "青山县：近8周服务预约" and data["unit"] == "" and data["empty"] is None
    assert len(data["categories"]) == 8
    series = {s["name"]: s["data"] for s in data["series"]}
    assert set(series) == {"预约", "已办结", "爽约"}
    assert (series["预约"][-1], series["已办结"][-1], series["爽约"][-1]) == (3, 1, 1)
    assert sum(series["预约"][:-1]) == 0


def test_the_chart_says_why_it_is_empty_and_keeps_the_scope(portal_app, world):
    client = portal_as(portal_app, world.staff_y)
    assert client.get("/charts/bookings.json", expect=200).get_json()["empty"] == "近8周暂无预约"
    client.get(f"/charts/bookings.json?unit={world.x.id}", expect=404)
    portal_as(portal_app, world.auditor).get("/charts/bookings.json", expect=403)


def test_the_workbench_shows_the_booking_chart_to_booking_viewers_only(portal_app, world):
    page = portal_as(portal_app, world.supervisor_parent).get("/", expect=200).get_data(as_text=True)
    assert 'data-testid="card-bookings"' in page and "近 8 周服务预约" in page
    assert 'data-chart-url="/charts/bookings.json"' in page and "查看预约统计表" in page
    assert "echarts" in page  # the local asset, included once a chart card is there
    page = portal_as(portal_app, world.auditor).get("/", expect=200).get_data(as_text=True)
    assert 'data-testid="card-bookings"' not in page


def test_the_nav_links_the_figures_for_booking_viewers(portal_app, world):
    page = portal_as(portal_app, world.staff_x).get("/", expect=200).get_data(as_text=True)
    assert 'href="/bookings/figures"' in page and "预约统计" in page


@pytest.mark.parametrize(
    "query",
    [
        "unit=abc&weeks=-1&end=9999-99-99",
        "weeks=9223372036854775807&end=0001-01-01",
        "after=../../etc&before=%3Cscript%3E",
        "after=" + "/1" * 200 + "/",
        "before=/&unit=-1",
        "end=2026-02-30&weeks=1e999",
        "unit=9223372036854775807",
        "end=%E5%91%A8%E4%B8%80&weeks=" + "9" * 19,
    ],
)
def test_hostile_parameters_never_fail(portal_app, world, query):
    client = portal_as(portal_app, world.staff_x)
    assert client.get(f"/bookings/figures?{query}").status_code in (200, 404, 422)  # 422: the input guards
    assert client.get(f"/charts/bookings.json?{query}").status_code in (200, 404, 422)


CELLS = sorted(BOOKING_FIGURES_CELLS)


@pytest.mark.parametrize("principal", PRINCIPALS)
@pytest.mark.parametrize("route", CELLS, ids=lambda r: f"{r[1]}")
def test_matrix_cells(route, principal, world, portal_app, api_app, monkeypatch, fake_wechat):
    """The figures' cells through the matrix's own runner, until test_matrix.py takes **BOOKING_CELLS (then the
    matrix runs them and this test steps aside)."""
    if route in test_matrix.MATRIX and test_matrix.MATRIX[route] is BOOKING_FIGURES_CELLS[route]:
        pytest.skip("tests/authz/test_matrix.py runs this cell")
    monkeypatch.setitem(test_matrix.MATRIX, route, BOOKING_FIGURES_CELLS[route])
    test_matrix.test_matrix_cell(route, principal, world, portal_app, api_app, monkeypatch, fake_wechat)
