"""Issue 11, import slice: the template, the rejected rows as .xlsx (fix and re-import), progress, scope, retention."""

import io
import threading
from datetime import timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from backend.db import transaction, utcnow
from backend.extensions import db
from backend.veterans import import_files, importer
from backend.veterans.identity import parse_id_number
from backend.veterans.models import ImportJob, Veteran
from tests.factories import create_veteran, valid_id_number, valid_mobile
from tests.helpers import portal_as
from tests.veterans.test_import import HEADER, sheet_bytes

TEMPLATE_HEADER = [*HEADER, "错误原因"]
HTMX = {"HX-Request": "true"}


@pytest.fixture(autouse=True)
def no_broker_calls(monkeypatch):
    """Test's broker is impossible on purpose: record enqueues (with their queue) instead."""
    calls = []
    monkeypatch.setattr("backend.tasks.enqueue", lambda task, *args, **kw: calls.append((task.name, args, kw)))
    return calls


def _sheets(content):
    book = load_workbook(io.BytesIO(content))
    return {s.title: [list(r) for r in s.iter_rows(values_only=True)] for s in book.worksheets}


def _import(actor, content, filename="a.xlsx"):
    job = importer.start_import(actor=actor, filename=filename, content=content)
    importer.run_import(job.id)
    db.session.refresh(job)
    return job


def _count():
    return db.session.scalar(select(func.count()).select_from(Veteran))


def test_template_has_headers_a_valid_example_and_notes(portal_app, world):
    response = portal_as(portal_app, world.staff_x).get("/veterans/import/template.xlsx", expect=200)
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert "attachment" in response.headers["Content-Disposition"] and response.headers["Cache-Control"] == "no-store"
    sheets = _sheets(response.data)
    (names, example), notes = sheets["退役军人名册"], sheets["填写说明"]
    assert names == HEADER
    row = dict(zip(names, example, strict=True))
    assert parse_id_number(row["身份证号"]).number == import_files.DEMO_ID_NUMBER  # a valid check character
    assert row["服务站"] == world.x1.name  # a station the clerk may import into
    described = {r[0]: r for r in notes[1:] if r and r[0] in HEADER}
    assert set(described) == set(HEADER)
    assert described["姓名"][1] == "必填" and "YYYY-MM-DD" in described["安置日期"][2]


def test_template_re_imports_cleanly_and_its_example_row_is_never_imported(portal_app, world):
    content = portal_as(portal_app, world.staff_x).get("/veterans/import/template.xlsx", expect=200).data
    before = _count()
    job = _import(world.staff_x, content)
    assert (job.status, job.processed_rows, job.imported_rows, job.rejections) == ("done", 1, 0, [])
    assert job.content is None and _count() == before  # no rejected rows kept, no fictitious veteran
    page = portal_as(portal_app, world.staff_x).get(f"/veterans/import/{job.id}", expect=200).get_data(as_text=True)
    assert "跳过示例行 1 行" in page and "下载未导入的行" not in page


def test_template_filled_in_imports(world):
    book = load_workbook(io.BytesIO(import_files.template_bytes(actor=world.staff_x)))
    sheet = book["退役军人名册"]
    number = valid_id_number()
    sheet["A2"], sheet["B2"] = "张大山", number
    out = io.BytesIO()
    book.save(out)
    job = _import(world.staff_x, out.getvalue())
    assert (job.imported_rows, job.rejections) == (1, [])
    veteran = db.session.scalars(select(Veteran).where(Veteran.name == "张大山")).one()
    assert veteran.station_id == world.x1.id and str(veteran.placement_date) == "2015-06-01" and veteran.party_member


def _rows_with_two_bad(world, existing):
    fixable = ["乙", "110105194912310021", "+8613900001111", "-公园路1号", world.x1.name, None, None, None, "是"]
    return [
        ["甲", valid_id_number(), valid_mobile(), None, world.x1.name, None, None, "2015-06-01", None],  # 2 good
        fixable,  # 3 bad check character; the phone and address start like formulas
        [None] * 9,  # 4 blank: reported, not in the download
        ["丙", existing.id_number, None, None, world.x1.name, world.x1_grid.name, None, "2016-07-01", None],  # 5 taken
    ]


def test_rejected_rows_download_with_reasons_and_re_import_after_fixing(portal_app, world):
    existing = create_veteran(station=world.x1)
    job = _import(world.staff_x, sheet_bytes(_rows_with_two_bad(world, existing)))
    assert (job.imported_rows, len(job.rejections)) == (1, 3)
    client = portal_as(portal_app, world.staff_x)
    assert "下载未导入的行" in client.get(f"/veterans/import/{job.id}").get_data(as_text=True)
    response = client.get(f"/veterans/import/{job.id}/rejected.xlsx", expect=200)
    assert "attachment" in response.headers["Content-Disposition"]
    (rows,) = _sheets(response.data).values()
    header, bad_check, taken = rows
    assert header == TEMPLATE_HEADER
    assert bad_check[:3] == ["乙", "110105194912310021", "'+8613900001111"] and bad_check[3] == "'-公园路1号"
    assert "校验位" in bad_check[-1] and "已登记" in taken[-1]
    assert taken[5] == world.x1_grid.name and taken[7] == "2016-07-01"  # every column kept, in template order

    # The clerk fixes the ID numbers in the downloaded file and uploads it as it is (reason column included).
    book = load_workbook(io.BytesIO(response.data))
    sheet = book.active
    sheet["B2"], sheet["B3"] = valid_id_number(), valid_id_number()
    out = io.BytesIO()
    book.save(out)
    before = _count()
    again = _import(world.staff_x, out.getvalue(), filename="fixed.xlsx")
    assert (again.imported_rows, again.rejections) == (2, [])
    assert _count() == before + 2
    fixed = db.session.scalars(select(Veteran).where(Veteran.name == "乙")).one()
    assert fixed.phone == "13900001111" and fixed.address == "-公园路1号" and fixed.party_member  # escapes undone


def test_the_download_is_audited_and_sealed_at_rest(portal_app, world):
    from backend.audit.models import AuditLog

    number = "110105194912310021"
    job = _import(world.staff_x, sheet_bytes([["乙", number, None, None, world.x1.name, None, None, None, None]]))
    assert number.encode() not in job.content
    portal_as(portal_app, world.staff_x).get(f"/veterans/import/{job.id}/rejected.xlsx", expect=200)
    row = db.session.scalars(select(AuditLog).where(AuditLog.action == "veterans.import_rejects_download")).one()
    assert row.object_id == str(job.id) and row.details == {"rows": 1}


def test_progress_endpoint_reports_progress(portal_app, world):
    job = importer.start_import(actor=world.staff_x, filename="a.xlsx", content=sheet_bytes([]))
    with transaction():
        job.status, job.total_rows, job.processed_rows = "running", 1000, 500
    client = portal_as(portal_app, world.staff_x)
    partial = client.get(f"/veterans/import/{job.id}", headers=HTMX, expect=200).get_data(as_text=True)
    assert 'value="50"' in partial and "500 / 1000" in partial and 'hx-trigger="every 1s"' in partial
    assert "<html" not in partial
    with transaction():
        job.status, job.processed_rows, job.finished_at = "done", 1000, utcnow()
    partial = client.get(f"/veterans/import/{job.id}", headers=HTMX, expect=200).get_data(as_text=True)
    assert 'value="100"' in partial and "hx-trigger" not in partial and "导入完成" in partial


def test_out_of_scope_job_and_its_download_are_404(portal_app, world):
    job = _import(world.staff_x, sheet_bytes([["乙", "1", None, None, world.x1.name, None, None, None, None]]))
    other = portal_as(portal_app, world.staff_y)
    for url in (f"/veterans/import/{job.id}", f"/veterans/import/{job.id}/rejected.xlsx"):
        assert other.get(url).status_code == 404
    assert job.filename not in other.get("/veterans/import", expect=200).get_data(as_text=True)
    assert job.filename in portal_as(portal_app, world.staff_x).get("/veterans/import").get_data(as_text=True)


def test_a_running_job_never_serves_its_upload(world):
    job = importer.start_import(actor=world.staff_x, filename="a.xlsx", content=sheet_bytes([]))
    with pytest.raises(import_files.ImportRejectsGone):
        import_files.rejected_rows_bytes(actor=world.staff_x, job_id=job.id)


def test_rejected_rows_are_deleted_after_24_hours(portal_app, world):
    job = _import(world.staff_x, sheet_bytes([["乙", "1", None, None, world.x1.name, None, None, None, None]]))
    assert import_files.purge_rejected_rows() == 0 and job.content is not None
    assert import_files.purge_rejected_rows(now=utcnow() + timedelta(hours=25)) == 1
    db.session.expire_all()
    assert db.session.get(ImportJob, job.id).content is None
    with transaction():
        db.session.get(ImportJob, job.id).finished_at = utcnow() - timedelta(hours=25)
    client = portal_as(portal_app, world.staff_x)
    assert client.get(f"/veterans/import/{job.id}/rejected.xlsx").status_code == 404
    assert "超过24小时保留期" in client.get(f"/veterans/import/{job.id}").get_data(as_text=True)


def test_with_a_broker_the_job_goes_to_the_imports_queue(world, no_broker_calls):
    job = importer.start_import(actor=world.staff_x, filename="a.xlsx", content=sheet_bytes([]))
    assert no_broker_calls == [("veterans.import_sheet", (job.id,), {"queue": "imports"})]


def test_an_unexpected_error_ends_the_job_without_logging_the_cell(world, monkeypatch, caplog):
    number = valid_id_number()

    def boom(*args):
        raise RuntimeError(f"row with {number}")

    monkeypatch.setattr(importer, "_import_row", boom)
    job = _import(world.staff_x, sheet_bytes([["甲", number, None, None, world.x1.name, None, None, None, None]]))
    assert job.status == "failed" and job.content is None and "系统错误" in job.error
    assert "RuntimeError" in caplog.text and number not in caplog.text


def test_without_a_broker_the_job_runs_in_a_thread_after_the_request_returns(portal_app, world, monkeypatch):
    """The embedded setup: the upload answers at once (the job still queued), a thread of the process runs it."""
    from backend.veterans import tasks

    monkeypatch.setitem(portal_app.config, "CELERY_BROKER_URL", None)
    release, original = threading.Event(), tasks.run_in_thread

    def held(app, job_id):
        release.wait(10)
        original(app, job_id)

    monkeypatch.setattr(tasks, "run_in_thread", held)
    rows = [["甲", valid_id_number(), None, None, world.x1.name, None, None, None, None], ["乙", "1"]]
    client = portal_as(portal_app, world.staff_x)
    client.post("/veterans/import", data={"file": (io.BytesIO(sheet_bytes(rows)), "a.xlsx")}, expect=302)
    job = db.session.scalars(select(ImportJob)).one()
    (thread,) = [t for t in threading.enumerate() if t.name == f"veterans-import-{job.id}"]
    assert job.status == "queued" and thread.daemon
    assert 'hx-trigger="every 1s"' in client.get(f"/veterans/import/{job.id}", expect=200).get_data(as_text=True)
    release.set()
    thread.join(10)
    db.session.expire_all()
    job = db.session.get(ImportJob, job.id)
    assert (job.status, job.imported_rows, len(job.rejections)) == ("done", 1, 1)
    assert "hx-trigger" not in client.get(f"/veterans/import/{job.id}", expect=200).get_data(as_text=True)


def test_the_purge_is_a_beat_task(app, world):
    from backend.veterans import tasks

    job = _import(world.staff_x, sheet_bytes([["乙", "1", None, None, world.x1.name, None, None, None, None]]))
    with transaction():
        job.finished_at = utcnow() - timedelta(hours=25)
    tasks.purge_import_files.run()  # the task body, in the test transaction (not a fresh app context)
    db.session.expire_all()
    assert db.session.get(ImportJob, job.id).content is None
    assert "veterans.purge_import_files" in {e["task"] for e in app.config["CELERY_BEAT_SCHEDULE"].values()}
