"""Pages that show rolled-up figures say when they were counted; the figures read touches only unit_stat (and the
org tree), never the registrations or veterans (EXPLAIN on PostgreSQL)."""

import re

import pytest

from backend.registration import queries as registration_queries
from backend.registration.windows import today_cst
from backend.veterans import queries as veterans_queries
from tests.factories import create_veteran
from tests.helpers import explain_plans, portal_as, refresh_figures


def test_pages_show_as_of_or_not_yet(portal_app, world):
    create_veteran(station=world.x1, grid=world.x1_grid, grid_worker="网格员")
    client = portal_as(portal_app, world.staff_x)
    figures = client.get("/registration/figures", expect=200).get_data(as_text=True)
    coverage = client.get("/veterans/coverage", expect=200).get_data(as_text=True)
    assert "该年度统计尚未生成" in figures and "统计尚未生成" in coverage and "0.0%" not in figures + coverage
    refresh_figures()
    for url in ("/registration/figures", "/veterans/coverage", f"/registration/figures?year={today_cst().year - 1}"):
        page = client.get(url, expect=200).get_data(as_text=True)
        assert 'data-testid="as-of">统计截至 20' in page, url
    assert "100.0%" in client.get("/veterans/coverage", expect=200).get_data(as_text=True)
    older = client.get(f"/registration/figures?year={today_cst().year - 2}", expect=200).get_data(as_text=True)
    assert "该年度统计尚未生成" in older  # only this year and the previous one are rolled up
    home = client.get("/", expect=200).get_data(as_text=True)
    assert "统计截至 20" in home.split('data-testid="card-progress"', 1)[1].split("</section>", 1)[0]


def _select(statement):
    return statement.lstrip().upper().startswith("SELECT")


@pytest.mark.postgres
def test_explain_figures_read_touches_only_unit_stat(world, _db):
    for _ in range(3):
        create_veteran(station=world.x1)
    refresh_figures()
    year = today_cst().year
    # A handful of rows makes a sequential scan the cheapest plan; with it priced out, a remaining Seq Scan on
    # unit_stat would mean no index serves the read (PostgreSQL still uses a seq scan when nothing else can).
    _db.exec_driver_sql("SET LOCAL enable_seqscan = off")
    plans = explain_plans(_db, lambda: registration_queries.figures(actor=world.supervisor_parent, year=year), _select)
    plans += explain_plans(_db, lambda: veterans_queries.coverage(actor=world.supervisor_parent), _select)
    scanned = re.findall(r" on (\w+)", "\n".join(plans))
    tables = {name for name in scanned if not name.startswith(("ix_", "pk_", "uq_"))}  # a bitmap scan names its index
    # the actor (staff, roles) and the org tree, then unit_stat by primary key: no registration, no veteran rows
    assert "unit_stat" in tables and tables <= {"unit_stat", "org_unit", "staff", "staff_role"}, plans
    assert all("Seq Scan on unit_stat" not in plan for plan in plans), plans
