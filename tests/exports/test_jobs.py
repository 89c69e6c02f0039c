"""exports slice (issue 12): exports are jobs. The writer streams and splits sheets, nothing is truncated, scope holds
at request time and in the worker, a redelivered job does nothing, a failure leaves no file, downloads are for the
requester only and before expiry, everything is audited, and the purge removes what expired."""

from datetime import timedelta

import pytest
from freezegun import freeze_time
from sqlalchemy import select

from backend.audit.models import AuditLog
from backend.db import transaction, utcnow
from backend.exports import registry, service
from backend.exports.models import ExportJob
from backend.exports.writer import write_workbook
from backend.extensions import db
from backend.orgs.scope import OrgUnitNotFound
from tests.exports.helpers import export_path, read_rows, run_export
from tests.factories import create_trip, create_veteran
from tests.helpers import refresh_figures


@pytest.fixture
def enqueued(monkeypatch):
    calls = []
    monkeypatch.setattr("backend.tasks.enqueue", lambda task, *args, **kw: calls.append((task.name, args, kw)))
    return calls


@pytest.fixture
def small_sheets(app, monkeypatch):
    monkeypatch.setitem(app.config, "EXPORT_SHEET_ROWS", 3)


def _audit(job_id):
    rows = db.session.execute(
        select(AuditLog.action, AuditLog.result, AuditLog.details)
        .where(AuditLog.object_type == "export_job", AuditLog.object_id == str(job_id))
        .order_by(AuditLog.id)
    ).all()
    return [(action, result, details) for action, result, details in rows]


def test_writer_streams_into_sheets_of_at_most_sheet_rows_and_escapes_formulas(tmp_path):
    rows = ([f"=A{i}", i] for i in range(7))  # a generator: consumed once, lazily
    progress = []
    written = write_workbook(
        tmp_path / "t.xlsx", title="名册", header=["甲", "乙"], rows=rows, sheet_rows=3, on_progress=progress.append
    )
    assert written == 7 and progress[-1] == 7
    from openpyxl import load_workbook

    book = load_workbook(tmp_path / "t.xlsx", read_only=True)
    sheets = {s.title: list(s.iter_rows(values_only=True)) for s in book}
    book.close()
    assert list(sheets) == ["名册", "名册 (2)", "名册 (3)"]
    assert [len(r) for r in sheets.values()] == [4, 4, 2]  # the header on every sheet
    assert all(r[0] == ("甲", "乙") for r in sheets.values())
    assert sheets["名册"][1] == ("'=A0", 0)


def test_veteran_export_holds_every_row_in_scope_split_across_sheets_with_numbers_masked(world, enqueued, small_sheets):
    mine = [create_veteran(station=world.x1) for _ in range(7)]
    create_veteran(station=world.y1)  # another county: not in staff_x's export
    job = run_export(world.staff_x, "veterans", {"unit": world.x.id})
    assert job.status == "done" and job.rows_done == 7 and job.rows_total == 7
    sheets = read_rows(job)
    assert list(sheets) == ["退役军人名册", "退役军人名册 (2)", "退役军人名册 (3)"]
    data = [row for rows in sheets.values() for row in rows[1:]]
    assert sorted(r[0] for r in data) == sorted(v.name for v in mine)  # no truncation, nothing from Y
    first = next(r for r in data if r[0] == mine[0].name)
    assert first[7] == mine[0].id_number_masked and mine[0].id_number not in str(data)
    assert first[8] == mine[0].phone_masked and mine[0].phone not in str(data)


def test_travel_export_is_scoped_to_the_requesters_subtree(world, enqueued):
    create_trip(create_veteran(station=world.x1, name="青山甲"))
    create_trip(create_veteran(station=world.y1, name="绿水乙"))
    names_x = [r[0] for r in read_rows(run_export(world.staff_x, "travel"))["出入境报备"][1:]]
    names_y = [r[0] for r in read_rows(run_export(world.staff_y, "travel"))["出入境报备"][1:]]
    assert "青山甲" in names_x and "绿水乙" not in names_x
    assert "绿水乙" in names_y and "青山甲" not in names_y


def test_a_unit_out_of_scope_is_refused_before_a_job_exists(world, enqueued):
    with pytest.raises(OrgUnitNotFound):
        service.request_export(actor=world.staff_y, kind="travel", params={"unit": world.x.id})
    assert db.session.scalars(select(ExportJob)).all() == [] and enqueued == []


def test_request_queues_on_the_exports_queue_and_a_redelivered_job_does_nothing(world, enqueued):
    job = service.request_export(actor=world.staff_x, kind="veterans", params={"unit": world.x1.id})
    assert job.status == "queued" and enqueued == [("exports.run", (job.id,), {"queue": "exports"})]
    service.run(job.id)
    db.session.expire_all()
    done = db.session.get(ExportJob, job.id)
    before = (done.status, done.file_path, done.finished_at, len(_audit(job.id)))
    service.run(job.id)  # the broker delivers it again
    db.session.expire_all()
    again = db.session.get(ExportJob, job.id)
    assert (again.status, again.file_path, again.finished_at, len(_audit(job.id))) == before


def test_failure_marks_the_job_failed_in_chinese_and_removes_the_partial_file(world, enqueued, monkeypatch):
    create_veteran(station=world.x1)
    kind = registry.get_kind("veterans")

    def broken(actor, params):
        source = kind.build(actor, params)
        good = source.rows

        def rows():
            yield from good
            raise RuntimeError("110101199001011234 boom")  # text that must not reach the job or the log

        source.rows = rows()
        return source

    monkeypatch.setitem(registry._KINDS, "veterans", registry.Kind("veterans", kind.permission, kind.title, broken))
    before = set(service.export_dir().iterdir())
    job = run_export(world.staff_x, "veterans", {"unit": world.x.id})
    assert job.status == "failed" and job.error == service.INTERNAL_FAILURE and job.file_path is None
    assert set(service.export_dir().iterdir()) == before  # the partial file is gone
    assert [(a, r) for a, r, _ in _audit(job.id)] == [("export.requested", "success"), ("export.finished", "failure")]


def test_requests_completions_and_downloads_are_audited_with_the_row_count(world, enqueued, portal):
    create_veteran(station=world.x1)
    job = run_export(world.staff_x, "veterans", {"unit": world.x1.id})
    portal.login(world.staff_x)
    response = portal.get(f"/exports/{job.id}/download", expect=200)
    assert response.mimetype == service.XLSX_MIMETYPE and response.data[:2] == b"PK"
    assert "filename*=UTF-8''" in response.headers["Content-Disposition"]
    assert response.headers["Cache-Control"] == "no-store"
    audit = _audit(job.id)
    assert [a for a, _, _ in audit] == ["export.requested", "export.finished", "export.downloaded"]
    assert audit[1][2]["rows"] == 1 and audit[0][2] == {"kind": "veterans", "params": {"unit": world.x1.id}}


def test_download_is_refused_to_others_out_of_scope_and_after_expiry_as_not_found(world, enqueued, portal_app):
    from tests.helpers import portal_as

    job = run_export(world.staff_x, "travel", {"unit": world.x.id})
    url = f"/exports/{job.id}/download"
    portal_as(portal_app, world.supervisor_parent).get(url, expect=404)  # in scope, but not the requester
    with freeze_time(job.expires_at + timedelta(seconds=1)):
        portal_as(portal_app, world.staff_x).get(url, expect=404)
    with transaction():
        db.session.get(ExportJob, job.id).unit_id = world.y.id  # the unit is no longer in staff_x's scope
    portal_as(portal_app, world.staff_x).get(url, expect=404)
    portal_as(portal_app, world.staff_x).get("/exports/999999999/download", expect=404)


def test_purge_deletes_expired_files_and_fails_jobs_stuck_past_the_hard_limit(world, enqueued, app):
    job = run_export(world.staff_x, "travel", {"unit": world.x.id})
    path = export_path(job)
    stuck = service.request_export(actor=world.staff_x, kind="travel", params={})
    with transaction():
        stuck.status, stuck.started_at = "running", utcnow()
    later = utcnow() + app.config["EXPORT_LINK_TTL"] + timedelta(minutes=1)
    assert service.purge_expired(now=later) == 2
    db.session.expire_all()
    assert db.session.get(ExportJob, job.id).status == "expired" and not path.exists()
    failed = db.session.get(ExportJob, stuck.id)
    assert failed.status == "failed" and failed.error == service.TIMED_OUT


def test_export_buttons_queue_a_job_and_my_exports_shows_its_progress(world, enqueued, portal):
    portal.login(world.staff_x)
    response = portal.post("/travel/export", data={"unit": world.x.id, "status": "planned"}, expect=302)
    assert response.headers["Location"].endswith("/exports/")
    job = db.session.scalars(select(ExportJob)).one()
    assert job.params == {"unit": world.x.id, "status": "planned"} and job.kind == "travel"
    page = portal.get("/exports/", expect=200).get_data(as_text=True)
    assert "导出任务已创建" in page and 'hx-trigger="every 2s"' in page and 'aria-valuenow="0"' in page
    service.run(job.id)
    fragment = portal.get("/exports/", headers={"HX-Request": "true"}, expect=200).get_data(as_text=True)
    assert "<html" not in fragment and "hx-trigger" not in fragment and 'aria-valuenow="100"' in fragment
    assert f"/exports/{job.id}/download" in fragment
    refresh_figures()  # the figures export reads the roll-up
    portal.post("/registration/figures/export", data={"year": "2026", "unit": world.x.id}, expect=302)
    portal.post("/veterans/export", data={"unit": world.x1.id}, expect=302)
    assert [name for name, _, _ in enqueued] == ["exports.run"] * 3


def test_the_export_task_has_its_own_queue_and_limits_and_the_purge_is_a_beat_task(app):
    from backend.exports.tasks import purge_expired, run_export
    from config.settings import QueueNames

    assert "exports.purge_expired" in {e["task"] for e in app.config["CELERY_BEAT_SCHEDULE"].values()}
    assert purge_expired.name == "exports.purge_expired" and QueueNames.EXPORTS in QueueNames.all()
    assert run_export.soft_time_limit < run_export.time_limit < app.config["CELERY_VISIBILITY_TIMEOUT"]


def test_a_third_export_while_two_run_is_refused_with_a_warning(world, enqueued, portal):
    for _ in range(2):
        service.request_export(actor=world.staff_x, kind="veterans", params={"unit": world.x1.id})
    with pytest.raises(service.TooManyExports):
        service.request_export(actor=world.staff_x, kind="veterans", params={"unit": world.x1.id})
    service.request_export(actor=world.staff_y, kind="veterans", params={})  # the cap is per staff member
    portal.login(world.staff_x)
    portal.post("/veterans/export", data={"unit": world.x1.id}, expect=302)
    page = portal.get("/exports/", expect=200).get_data(as_text=True)
    assert "已有导出任务正在进行" in page and len(enqueued) == 3


def test_figures_of_a_year_not_rolled_up_are_refused_never_a_sheet_of_zeros(world, enqueued, portal):
    from backend.errors import ValidationFailed

    with pytest.raises(ValidationFailed) as refused:
        service.request_export(actor=world.staff_x, kind="registration_figures", params={"year": "2024"})
    assert refused.value.details == {"year": "该年度统计尚未生成，暂不能导出"}
    portal.login(world.staff_x)
    portal.post("/registration/figures/export", data={"year": "2024"}, expect=302)
    assert "该年度统计尚未生成" in portal.get("/exports/", expect=200).get_data(as_text=True)
    refresh_figures()
    job = run_export(world.staff_x, "registration_figures", {"year": str(utcnow().year)})
    (rows,) = read_rows(job).values()
    assert rows[-1][0].startswith("统计截至 ")


def test_the_export_directory_is_absolute_whatever_the_setting(app, monkeypatch, tmp_path):
    monkeypatch.setitem(app.config, "EXPORT_DIR", "relative-exports-dir")
    monkeypatch.chdir(tmp_path)
    assert service.export_dir() == tmp_path / "relative-exports-dir"  # resolved now: send_file reads the same path
