"""Funding totals (issue 18, part 3): by source, unit, component and month; scope; the export kind."""

from datetime import date

import pytest

from backend.orgs.scope import OrgUnitNotFound
from backend.pension import funding
from tests.pension.payroll_fixtures import inline_jobs, paid_veteran, run_for

__all__ = ["inline_jobs"]
pytestmark = pytest.mark.usefixtures("inline_jobs")


def test_report_by_source_unit_component_month(world):
    paid_veteran(world, base=300_000, allowance=20_000)
    run_for(world, month=date(2026, 1, 1))
    run_for(world, month=date(2026, 2, 1))
    report = funding.report(actor=world.supervisor_parent, unit_id=world.city.id, year="2026")
    assert report.total.by_funding == {"central": 600_000, "local": 40_000}
    by_unit = {r.label: r.total_fen for r in report.by_unit}
    assert by_unit == {world.x.name: 640_000, world.y.name: 0}
    assert [r.label for r in report.by_month] == ["2026-01", "2026-02"]
    one = funding.report(actor=world.supervisor_parent, unit_id=world.city.id, year=2026, month=2)
    assert one.total.total_fen == 320_000
    assert funding.report(actor=world.supervisor_parent, unit_id=world.city.id, year=2025).total.total_fen == 0


def test_scope_and_export_rows(world):
    paid_veteran(world, base=300_000)
    run_for(world, month=date(2026, 1, 1))
    with pytest.raises(OrgUnitNotFound):
        funding.report(actor=world.staff_y, unit_id=world.x.id, year=2026)
    source = funding.funding_export(world.supervisor_parent, {"year": "2026", "unit": world.x.id})
    rows = list(source.rows)
    assert rows[0][:4] == ["2026-01", world.x1.name, "基本退役金", "中央资金"] and rows[0][-1] == 300_000
    assert rows[-1][0] == "合计"


def test_funding_page_renders(world, portal):
    paid_veteran(world)
    run_for(world, month=date(2026, 1, 1))
    portal.login(world.supervisor_parent)
    page = portal.get(f"/pension/funding?unit={world.city.id}&year=2026", expect=200).text
    assert "3,000.00" in page
