"""The portal's adjustment batch pages (issue 18, part 2): create (previewed at once), the preview with its lines,
the checker's confirmation page and apply, the maker refused, the compensating batch, the lines' export (formula
text escaped) and the workbench card."""

from openpyxl import load_workbook
from sqlalchemy import select

from backend.audit.models import AuditLog
from backend.extensions import db
from backend.pension.amounts import components_of
from backend.pension.models import AdjustmentBatch
from tests.exports.helpers import export_path, read_rows, run_export
from tests.helpers import PortalClient
from tests.pension.adjust_helpers import checker, month_text, new_batch, paid_veteran, this_month


def _as(portal_app, staff):
    client = PortalClient(portal_app)
    client.login(staff)
    return client


def _form(world, **overrides):
    return {
        "title": "2026年调整",
        "doc_ref": "退役军人部发〔2026〕1号",
        "rule": "percent",
        "percent": "3.5",
        "component": "base",
        "effective_month": month_text(-2),
        "unit_id": str(world.x.id),
        "funding": "central",
        **overrides,
    }


def test_make_preview_check_and_apply_through_the_portal(world, portal_app):
    veteran = paid_veteran(world.x1, fen=333_333, name="张三")
    maker = _as(portal_app, world.staff_x)
    assert "新建退役金调整批次" in maker.get("/pension/adjustments/new", expect=200).text
    response = maker.post("/pension/adjustments/new", data=_form(world), expect=302)
    batch = db.session.scalars(select(AdjustmentBatch)).one()
    assert response.headers["Location"].endswith(f"/pension/adjustments/{batch.id}")
    page = maker.get(f"/pension/adjustments/{batch.id}", expect=200).text
    assert "张三" in page and "3,333.33" in page and "3,450.00" in page and "116.67" in page
    assert "须由另一位复核人员执行" in page and "复核执行…" not in page
    maker.post(f"/pension/adjustments/{batch.id}/apply", expect=302)  # the maker: refused with a message
    assert db.session.get(AdjustmentBatch, batch.id).state == "previewed"
    assert "不能由您本人复核执行" in maker.get(f"/pension/adjustments/{batch.id}/apply", expect=200).text

    other = checker(world)
    second = _as(portal_app, other)
    assert "复核执行…" in second.get(f"/pension/adjustments/{batch.id}", expect=200).text
    confirm = second.get(f"/pension/adjustments/{batch.id}/apply", expect=200).text
    assert "data-confirm-title" in confirm and "116.67 元" in confirm
    second.post(f"/pension/adjustments/{batch.id}/apply", expect=302)
    db.session.expire_all()
    assert db.session.get(AdjustmentBatch, batch.id).state == "applied"
    assert components_of(veteran.id, this_month())["base"][0] == 345_000
    second.post(f"/pension/adjustments/{batch.id}/apply", expect=302)  # twice: a message, nothing written again
    assert "已由他人复核执行" in second.get(f"/pension/adjustments/{batch.id}", expect=200).text

    maker.post(f"/pension/adjustments/{batch.id}/compensate", data={"doc_ref": ""}, expect=302)
    undo = db.session.scalars(select(AdjustmentBatch).where(AdjustmentBatch.compensates_id == batch.id)).one()
    assert undo.state == "previewed" and undo.doc_ref == batch.doc_ref and undo.line_count == 1
    second.post(f"/pension/adjustments/{undo.id}/apply", expect=302)
    assert components_of(veteran.id, this_month())["base"][0] == 333_333


def test_a_bad_form_says_why_and_keeps_the_input(world, portal_app):
    client = _as(portal_app, world.staff_x)
    page = client.post("/pension/adjustments/new", data=_form(world, doc_ref="", percent="abc"), expect=200).text
    assert "调整比例格式不正确" in page and "2026年调整" in page
    page = client.post("/pension/adjustments/new", data=_form(world, effective_month="2001-01"), expect=200).text
    assert "生效月份不能早于" in page
    page = client.post("/pension/adjustments/new", data=_form(world, doc_ref=""), expect=200).text
    assert "请填写政策文件文号" in page
    assert db.session.scalars(select(AdjustmentBatch)).first() is None


def test_station_staff_and_other_counties_are_refused(world, portal_app):
    from tests.factories import create_staff

    paid_veteran(world.x1, fen=100_000)
    batch = new_batch(world.staff_x)
    station_user = _as(portal_app, create_staff(unit=world.x1, roles=("station_staff",)))
    station_user.get("/pension/adjustments/new", expect=403)
    station_user.get(f"/pension/adjustments/{batch.id}", expect=404)  # a county batch is outside a station's scope
    other_county = _as(portal_app, world.staff_y)
    other_county.get(f"/pension/adjustments/{batch.id}", expect=404)
    other_county.post(f"/pension/adjustments/{batch.id}/apply", expect=404)
    assert f"batch-{batch.id}" not in other_county.get("/pension/adjustments", expect=200).text
    assert f"batch-{batch.id}" in _as(portal_app, world.supervisor_parent).get("/pension/adjustments").text


def test_the_export_lists_every_line_with_formula_text_escaped(world, monkeypatch):
    monkeypatch.setattr("backend.tasks.enqueue", lambda task, *args, **kw: None)
    from tests.factories import create_unit

    station = create_unit(parent=world.x, name="=HYPERLINK(1)")
    paid_veteran(station, fen=100_000, name="+SUM(1)", category="@一类")
    paid_veteran(world.x1, fen=200_000, name="李四")
    batch = new_batch(world.staff_x, rule="fixed", params={"fen": -1_050}, doc_ref="-文号")
    job = run_export(world.supervisor_parent, "pension_adjustment", {"batch": batch.id})
    assert job.status == "done"
    rows = [row for sheet in read_rows(job).values() for row in sheet]
    assert rows[0] == (
        "姓名",
        "服务站",
        "类别",
        "调整项目",
        "原金额（元）",
        "新金额（元）",
        "变动（元）",
        "资金来源",
        "生效月份",
        "文号",
    )
    by_name = {row[0]: row for row in rows[1:]}
    hostile = by_name["'+SUM(1)"]
    assert hostile[1:4] == ("'=HYPERLINK(1)", "'@一类", "基本退役金")
    assert (hostile[4], hostile[5], hostile[6]) == (1000, 989.5, -10.5)
    assert hostile[9] == "'-文号" and by_name["李四"][4] == 2000
    book = load_workbook(export_path(job))
    assert not any(isinstance(c.value, str) and c.value.startswith("=") for s in book for r in s.iter_rows() for c in r)
    audit = db.session.scalars(select(AuditLog).where(AuditLog.action == "export.requested")).one()
    assert audit.details["kind"] == "pension_adjustment"


def test_the_workbench_card_lists_batches_for_another_checker(world, portal_app):
    paid_veteran(world.x1, fen=100_000)
    new_batch(world.staff_x)
    mine = _as(portal_app, world.staff_x).get("/", expect=200).text
    theirs = _as(portal_app, checker(world)).get("/", expect=200).text
    assert 'data-testid="card-pension-adjustments"' in theirs
    value = theirs.split('data-testid="todo-adjustments-waiting-value">')[1].split("<")[0]
    assert value == "1"
    own = mine.split('data-testid="todo-adjustments-waiting-value">')[1].split("<")[0]
    assert own == "0"
    assert 'data-testid="card-pension-adjustments"' not in _as(portal_app, world.supervisor_parent).get("/").text
