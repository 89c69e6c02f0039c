"""The dashboard reads only the figures (no source table), scope (a station's center reviewer sees its unit only; a
city supervisor not the other city), settings, recomputation, the Excel export, the PDF report and the card."""

import pytest
from sqlalchemy import event, select

from backend.assessment import settings as settings_service
from backend.assessment import tasks
from backend.assessment.aggregate import aggregate
from backend.assessment.models import IndicatorSetting
from backend.audit.models import AuditLog
from backend.extensions import db
from tests.assessment.helpers import TODAY, YEAR, build
from tests.exports.helpers import read_rows, run_export
from tests.factories import create_staff, create_unit
from tests.helpers import portal_as

ALLOWED_TABLES = {"assessment_figure", "assessment_setting", "org_unit"}
PORTAL_TABLES = {"staff", "staff_role", "audit_log", "audit_sequence", "export_job"}  # login, session, nav


@pytest.fixture
def small(world):
    build(world)
    aggregate(YEAR - 1, today=TODAY)
    aggregate(YEAR, today=TODAY)
    return world


def _tables_read(statements):
    import re

    found = set()
    for sql in statements:
        found |= {m.lower() for m in re.findall(r'(?:FROM|JOIN)\s+"?(\w+)"?', sql, flags=re.IGNORECASE)}
    return found


def test_dashboard_reads_only_the_figures(small, portal_app):
    client = portal_as(portal_app, small.supervisor_parent)
    statements = []

    def listen(conn, cursor, statement, *args):
        statements.append(statement)

    engine = db.session.get_bind()
    event.listen(engine, "before_cursor_execute", listen)
    try:
        page = client.get(f"/assessment/?unit={small.x.id}&year={YEAR}")
        charts = client.get(f"/assessment/charts.json?unit={small.x.id}&year={YEAR}")
    finally:
        event.remove(engine, "before_cursor_execute", listen)
    assert page.status_code == 200 and charts.status_code == 200
    html = page.get_data(as_text=True)
    assert "青山县" in html and "年度确认完成率" in html and "66.7%" in html
    assert charts.get_json()["ranking"]["categories"] == ["白云镇服务站", "青山镇服务站"] or charts.get_json()[
        "ranking"
    ]["categories"] == ["青山镇服务站", "白云镇服务站"]
    read = _tables_read(statements) - PORTAL_TABLES
    assert read <= ALLOWED_TABLES, read


def test_scope(small, portal_app):
    reviewer_x1 = create_staff(unit=small.x1, roles=("center_reviewer",))
    client = portal_as(portal_app, reviewer_x1)
    assert client.get("/assessment/").status_code == 200
    assert client.get(f"/assessment/?unit={small.x.id}").status_code == 404
    assert client.get(f"/assessment/charts.json?unit={small.x2.id}").status_code == 404
    other_city = create_unit(parent=small.province, name="另一市")
    supervisor = create_staff(unit=other_city, roles=("supervisor",))
    other = portal_as(portal_app, supervisor)
    assert other.get(f"/assessment/?unit={small.x.id}").status_code == 404
    assert other.get(f"/assessment/report.pdf?unit={small.x.id}").status_code == 404
    station = portal_as(portal_app, small.target)  # station staff: no assessment.view
    assert station.get("/assessment/").status_code == 403


def test_settings_saved_and_audited(small, portal_app):
    client = portal_as(portal_app, small.supervisor_parent)
    assert client.get("/assessment/settings").status_code == 200
    form = {f"weight_{c}": "0" for c in ("registration",)}
    bad = client.post("/assessment/settings", data={**form, "weight_registration": "101"})
    assert bad.status_code == 422 and "权重应为" in bad.get_data(as_text=True)
    from backend.assessment.indicators import INDICATORS

    data = {}
    for indicator in INDICATORS:
        data[f"weight_{indicator.code}"] = "50" if indicator.code in ("registration", "satisfaction") else "0"
        data[f"target_{indicator.code}"] = "80" if indicator.code == "registration" else "1"
        data[f"enabled_{indicator.code}"] = "1"
    response = client.post("/assessment/settings", data=data, follow_redirects=True)
    assert response.status_code == 200
    row = db.session.scalars(
        select(IndicatorSetting).where(
            IndicatorSetting.unit_id == small.city.id, IndicatorSetting.code == "registration"
        )
    ).one()
    assert (row.weight, row.target_permille) == (50, 800)
    assert db.session.scalars(select(AuditLog).where(AuditLog.action == "assessment.settings_saved")).first()
    reviewer = portal_as(portal_app, small.staff_x)  # assessment.view only
    assert reviewer.get("/assessment/settings").status_code == 403


def test_recompute_starts_a_background_run(small, portal_app, monkeypatch):
    started = []
    monkeypatch.setattr(tasks, "start_recompute", lambda year, locked=False: started.append(year))
    client = portal_as(portal_app, create_staff(unit=small.province, roles=("supervisor",)))
    assert client.post("/assessment/recompute", data={"year": str(YEAR)}).status_code == 302
    assert started == [YEAR]
    tasks.release(YEAR)  # the stub never ran the job that releases it
    assert client.post("/assessment/recompute", data={"year": "1999"}).status_code == 302
    assert started == [YEAR]
    with pytest.raises(Exception):  # noqa: B017 - PermissionDenied
        settings_service.request_recompute(actor=small.staff_x, year=YEAR)


def test_export_content(small, monkeypatch):
    monkeypatch.setattr("backend.tasks.enqueue", lambda task, *args, **kw: None)
    job = run_export(small.supervisor_parent, "assessment", {"year": str(YEAR), "unit": str(small.x.id)})
    assert job.status == "done"
    rows = next(iter(read_rows(job).values()))
    header, body = rows[0], rows[1:]
    assert header[:4] == ("单位", "层级", "路径", f"{YEAR}年得分")
    names = {row[0] for row in body}
    assert names == {"青山县", "青山镇服务站", "白云镇服务站"}
    county = next(row for row in body if row[0] == "青山县")
    assert county[header.index(f"年度确认完成率（{YEAR}）")] == "66.7%"
    assert county[5] == 1 and county[6] == 2  # rank among X and Y (Y scores lower)


def test_pdf_report_is_audited(small, portal_app):
    pytest.importorskip("weasyprint")
    client = portal_as(portal_app, small.supervisor_parent)
    response = client.get(f"/assessment/report.pdf?unit={small.x.id}&year={YEAR}")
    assert response.status_code == 200 and response.data[:5] == b"%PDF-"
    assert db.session.scalars(select(AuditLog).where(AuditLog.action == "assessment.report_download")).first()


def test_workbench_card(small, portal_app):
    page = portal_as(portal_app, small.staff_x).get("/")
    html = page.get_data(as_text=True)
    assert 'data-testid="card-assessment"' in html and "同级排名" in html
