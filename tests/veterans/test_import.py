"""Excel import: exactly the good rows are imported; every other row is reported with its reason."""

import io

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from backend.extensions import db
from backend.veterans import importer
from backend.veterans.models import ImportJob, Veteran
from tests.factories import create_staff, create_veteran, valid_id_number, valid_mobile

HEADER = ["姓名", "身份证号", "手机号", "住址", "服务站", "网格", "网格员", "安置日期", "是否党员"]


def sheet_bytes(rows, header=HEADER):
    wb = Workbook(write_only=True)
    ws = wb.create_sheet()
    ws.append(header)
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


@pytest.fixture
def enqueued(monkeypatch):
    """Record enqueues instead of sending them (Test's broker is impossible on purpose)."""
    calls = []
    monkeypatch.setattr("backend.tasks.enqueue", lambda task, *args, **kw: calls.append((task.name, args)))
    return calls


def _count():
    return db.session.scalar(select(func.count()).select_from(Veteran))


def test_mixed_sheet_imports_exactly_the_good_rows(world, enqueued):
    existing = create_veteran(station=world.x1)
    good1, good2, dup_in_sheet = valid_id_number(), valid_id_number(), valid_id_number()
    rows = [
        ["甲", good1, valid_mobile(), "住址1", world.x1.name, world.x1_grid.name, "网格员", "2015-06-01", "是"],  # 2
        ["乙", "110105194912310021", valid_mobile(), None, world.x1.name, None, None, None, None],  # 3 bad check
        ["丙", existing.id_number, None, None, world.x1.name, None, None, None, None],  # 4 already registered
        ["丁", good2, None, None, world.x1.name, None, None, None, "否"],  # 5
        ["戊", good2, None, None, world.x1.name, None, None, None, None],  # 6 duplicate in sheet
        ["己", dup_in_sheet, None, None, "不存在的服务站", None, None, None, None],  # 7 unknown unit
        ["庚", valid_id_number(), None, None, world.y1.name, None, None, None, None],  # 8 outside scope
        [None, None, None, None, None, None, None, None, None],  # 9 empty
        ["", valid_id_number(), None, None, world.x1.name, None, None, None, None],  # 10 empty name
        ["辛", valid_id_number(), "12345", None, world.x1.name, None, None, None, None],  # 11 bad phone
        ["壬", valid_id_number(), None, None, world.x1.name, "别处网格", None, None, None],  # 12 grid not under station
    ]
    before = _count()
    job = importer.start_import(actor=world.staff_x, filename="名册.xlsx", content=sheet_bytes(rows))
    assert enqueued == [("veterans.import_sheet", (job.id,))]
    importer.run_import(job.id)
    db.session.refresh(job)
    assert job.status == "done" and job.content is not None  # the upload replaced by the sealed rejected rows
    assert b"PK" not in job.content[:4] and existing.id_number.encode() not in job.content
    assert (job.processed_rows, job.imported_rows) == (11, 2)
    assert _count() == before + 2
    reasons = {r["row"]: r["reason"] for r in job.rejections}
    assert sorted(reasons) == [3, 4, 6, 7, 8, 9, 10, 11, 12]
    assert "校验位" in reasons[3] and "已登记" in reasons[4] and "重复" in reasons[6]
    assert "不存在" in reasons[7] and "不在管辖范围" in reasons[8] and reasons[9] == "空行"
    assert "姓名" in reasons[10] and "手机" in reasons[11] and "网格" in reasons[12]
    imported = db.session.scalars(select(Veteran).where(Veteran.name == "甲")).one()
    assert (
        imported.party_member and imported.grid_id == world.x1_grid.id and str(imported.placement_date) == "2015-06-01"
    )


@pytest.mark.parametrize(
    "content",
    [b"", b"not a zip at all", b"PK\x03\x04garbage", sheet_bytes([], header=["名字", "号码"])],
    ids=["empty", "text", "broken-zip", "wrong-headers"],
)
def test_bad_files_are_refused_before_a_job_exists(world, enqueued, content):
    with pytest.raises(importer.ImportFileInvalid):
        importer.start_import(actor=world.staff_x, filename="x.xlsx", content=content)
    assert enqueued == [] and db.session.scalar(select(func.count()).select_from(ImportJob)) == 0


def test_import_jobs_are_scoped(world, enqueued):
    job = importer.start_import(actor=world.staff_x, filename="a.xlsx", content=sheet_bytes([]))
    city_reviewer = create_staff(unit=world.city, roles=("center_reviewer",))
    assert importer.get_import(actor=city_reviewer, job_id=job.id).id == job.id
    with pytest.raises(importer.ImportNotFound):
        importer.get_import(actor=world.staff_y, job_id=job.id)


def test_finished_job_is_not_run_twice(world, enqueued):
    rows = [["甲", valid_id_number(), None, None, world.x1.name, None, None, None, None]]
    job = importer.start_import(actor=world.staff_x, filename="a.xlsx", content=sheet_bytes(rows))
    importer.run_import(job.id)
    importer.run_import(job.id)
    assert job.imported_rows == 1


def test_ten_thousand_rows_import_in_one_job_with_progress(world, enqueued, monkeypatch):
    """Slow (~10-20 s): 10,000 rows through validation, encryption and per-row savepoints, as the issue requires."""
    progress = []
    original = importer._import_row

    def spy(actor, row, columns, units, seen):
        result = original(actor, row, columns, units, seen)
        if len(seen) % importer.BATCH == 1:
            progress.append(db.session.get(ImportJob, job_id).processed_rows)
        return result

    monkeypatch.setattr(importer, "_import_row", spy)
    rows = [
        [f"老兵{i}", valid_id_number(), valid_mobile(), None, world.x1.name, None, None, None, None]
        for i in range(10_000)
    ]
    job = importer.start_import(actor=world.staff_x, filename="big.xlsx", content=sheet_bytes(rows))
    job_id = job.id
    assert job.total_rows == 10_000
    importer.run_import(job_id)
    assert (job.status, job.imported_rows, job.rejections) == ("done", 10_000, [])
    assert progress == sorted(progress) and len(set(progress)) == 20  # progress recorded batch by batch
