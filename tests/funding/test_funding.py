"""经费统计 (Art. 22): sums by source, unit and purpose from visit and assistance rows written directly, the scope, the
portal page and the Excel export (rows equal the figures, formulas escaped)."""

from datetime import date
from decimal import Decimal

import pytest

from backend.assistance.models import AssistanceCase
from backend.db import transaction
from backend.errors import PermissionDenied, ValidationFailed
from backend.extensions import db
from backend.funding import figures
from backend.orgs.scope import OrgUnitNotFound
from backend.registration.windows import today_cst
from backend.visits.models import Visit, VisitCampaign
from tests.exports.helpers import read_rows, run_export
from tests.factories import create_unit, create_veteran
from tests.helpers import portal_as

YEAR = today_cst().year


def campaign(world, unit, name):
    with transaction():
        row = VisitCampaign(
            unit_id=unit.id,
            name=name,
            purpose="节日慰问",
            starts_on=date(YEAR, 1, 1),
            ends_on=date(YEAR, 1, 31),
            created_by_id=world.staff_x.id,
        )
        db.session.add(row)
    return row


def visit(camp, station, fen, source, *, year=YEAR, status="done"):
    with transaction():
        db.session.add(
            Visit(
                campaign_id=camp.id,
                veteran_id=create_veteran(station=station).id,
                station_id=station.id,
                status=status,
                amount_fen=fen,
                funding_source=source,
                budget_year=year,
            )
        )


def case(station, fen, source, *, category="serious_illness", status="paid", year=YEAR):
    with transaction():
        db.session.add(
            AssistanceCase(
                veteran_id=create_veteran(station=station).id,
                station_id=station.id,
                category=category,
                status=status,
                description_sealed="sealed",
                approved_amount_fen=fen,
                paid_amount_fen=fen if status in ("paid", "closed") else None,
                funding_source=source,
                budget_year=year,
            )
        )


@pytest.fixture
def spending(world):
    """X1: 春节走访 central 100.00 + 50.50, local 20.01; illness paid central 3000.00; accident closed local 123.45.
    Not counted: an approved case, another year, a planned visit. Y1 (outside X): central 77.77."""
    world.units["x2"] = create_unit(parent=world.x, name="白云镇服务站")
    spring = campaign(world, world.x, "春节走访")
    visit(spring, world.x1, 10000, "central")
    visit(spring, world.x1, 5050, "central")
    visit(spring, world.x1, 2001, "local")
    visit(spring, world.x1, 999, "local", year=YEAR - 1)
    visit(spring, world.x1, 0, None, status="planned")
    case(world.x1, 300000, "central")
    case(world.x1, 12345, "local", category="accident", status="closed")
    case(world.x1, 99999, "central", status="approved")
    visit(campaign(world, world.y, "八一慰问"), world.y1, 7777, "central")
    return world


def _row(rows, label):
    return next(r for r in rows if r.label == label)


def test_yuan_is_exact_with_two_decimals():
    assert figures.yuan(0) == "0.00" and figures.yuan(5) == "0.05" and figures.yuan(123456789) == "1234567.89"
    assert figures.yuan_decimal(315050) == Decimal("3150.50")


def test_sums_by_source_unit_and_purpose_in_the_county(spending):
    w = spending
    report = figures.funding_report(actor=w.staff_x, year=YEAR, unit_id=w.x.id)
    assert report.total.by_source == {"central": 315050, "local": 14346} and report.total.count == 5
    assert [r.label for r in report.by_unit] == [w.x1.name, w.x2.name]
    assert _row(report.by_unit, w.x1.name).total_fen == 329396 and _row(report.by_unit, w.x2.name).total_fen == 0
    spring = _row(report.by_purpose, "走访慰问：春节走访")
    assert spring.by_source == {"central": 15050, "local": 2001} and spring.count == 3
    assert _row(report.by_purpose, "帮扶援助：重大疾病").by_source == {"central": 300000, "local": 0}
    assert _row(report.by_purpose, "帮扶援助：意外事故").by_source == {"central": 0, "local": 12345}


def test_a_station_report_and_a_year_without_spending(spending):
    w = spending
    station = figures.funding_report(actor=w.staff_x, year=YEAR, unit_id=w.x1.id)
    assert [r.label for r in station.by_unit] == [w.x1.name] and station.total.total_fen == 329396
    empty = figures.funding_report(actor=w.staff_x, year=YEAR - 5, unit_id=w.x.id)
    assert empty.total.total_fen == 0 and empty.by_purpose == []


def test_scope_limits_the_figures(spending):
    w = spending
    city = figures.funding_report(actor=w.supervisor_parent, year=YEAR, unit_id=w.city.id)
    assert city.total.by_source == {"central": 315050 + 7777, "local": 14346}
    own = figures.funding_report(actor=w.staff_y, year=YEAR)
    assert own.unit.id == w.y.id and own.total.total_fen == 7777
    with pytest.raises(OrgUnitNotFound):
        figures.funding_report(actor=w.staff_y, year=YEAR, unit_id=w.x.id)
    with pytest.raises(PermissionDenied):
        figures.funding_report(actor=w.target, year=YEAR)  # station staff: no funding.view
    with pytest.raises(ValidationFailed):
        figures.funding_report(actor=w.staff_x, year="abc")


def test_portal_page_shows_yuan_and_the_export_starts_a_job(spending, portal_app, monkeypatch):
    monkeypatch.setattr("backend.tasks.enqueue", lambda task, *args, **kw: None)
    w = spending
    client = portal_as(portal_app, w.staff_x)
    page = client.get(f"/funding/?unit={w.x.id}&year={YEAR}", expect=200).get_data(as_text=True)
    assert "3150.50" in page and "143.46" in page and "3293.96" in page and "走访慰问：春节走访" in page
    assert w.y1.name not in page
    response = client.post("/funding/export", data={"unit": w.x.id, "year": YEAR}, expect=302)
    assert response.headers["Location"].endswith("/exports/")
    client.get(f"/funding/?unit={w.x.id}&year=19", expect=422)
    portal_as(portal_app, w.staff_y).get(f"/funding/?unit={w.x.id}", expect=404)


def test_export_rows_equal_the_figures_and_escape_formulas(spending, monkeypatch):
    monkeypatch.setattr("backend.tasks.enqueue", lambda task, *args, **kw: None)
    w = spending
    visit(campaign(w, w.x, "=HYPERLINK(1)"), w.x1, 100, "local")
    report = figures.funding_report(actor=w.staff_x, year=YEAR, unit_id=w.x.id)
    job = run_export(w.staff_x, "funding_figures", {"year": YEAR, "unit": w.x.id})
    assert job.status == "done"
    [rows] = read_rows(job).values()
    assert list(rows[0]) == ["服务站", "资金来源", "支出类别", "用途", "笔数", "金额（元）", "金额（分）"]
    lines = rows[1 : 1 + len(report.lines)]
    assert [(r[3], r[4], r[6]) for r in lines] == [
        ("'=HYPERLINK(1)" if ln.purpose.startswith("=") else ln.purpose, ln.count, ln.amount_fen) for ln in report.lines
    ]
    assert all(Decimal(str(r[5])) == Decimal(r[6]).scaleb(-2) for r in lines)
    totals = {r[1]: r[6] for r in rows[1 + len(report.lines) :]}
    assert totals == {"中央资金": 315050, "地方资金": 14446, "全部": 329496}
    assert totals["全部"] == report.total.total_fen


def test_export_of_a_unit_outside_the_scope_is_refused(spending):
    from backend.exports.service import request_export

    with pytest.raises(OrgUnitNotFound):
        request_export(actor=spending.staff_y, kind="funding_figures", params={"year": YEAR, "unit": spending.x.id})
