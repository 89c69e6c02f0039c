"""Excel import of veterans: every good row is imported, every other row reported with its reason.

The upload is checked (size, zip magic bytes, headers) before a job is queued; the job runs off the request thread
(a Celery task, or a background thread when no broker is configured: backend/veterans/tasks.py), commits in batches
and records progress. When it ends the uploaded bytes are replaced by the sealed rejected rows (import_files.py).
"""

import io
import logging
import zipfile
import zlib
from datetime import date, datetime

from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from backend.audit import service as audit_service
from backend.db import after_commit, transaction, utcnow
from backend.errors import AppError, NotFound, ValidationFailed
from backend.extensions import db
from backend.names import clean_name
from backend.orgs.scope import get_scoped, get_unit_in_scope, require_permission, scoped
from backend.party.service import sync_imported
from backend.staff.models import Staff
from backend.veterans import import_files
from backend.veterans.models import ImportJob
from backend.veterans.queries import grids_in_scope, stations_in_scope
from backend.veterans.service import build_veteran

HEADERS = {
    "姓名": "name",
    "身份证号": "id_number",
    "手机号": "phone",
    "住址": "address",
    "服务站": "station",
    "网格": "grid",
    "网格员": "grid_worker",
    "安置日期": "placement_date",
    "是否党员": "party_member",
}
REQUIRED = ("姓名", "身份证号", "服务站")
MAX_BYTES = 10 * 1024 * 1024
MAX_ROWS = 100_000
BATCH = 500
logger = logging.getLogger(__name__)


class ImportFileInvalid(ValidationFailed):
    code = "veterans.import_invalid_file"
    message = "请上传 .xlsx 格式的 Excel 表格，首行为表头（姓名、身份证号、服务站为必填列）"


class ImportUnsafeFile(ImportFileInvalid):
    message = "文件中含有不允许的 XML 声明（DTD 或实体定义），请在 Excel 中另存为 .xlsx 后重新上传"


class ImportNotFound(NotFound):
    code = "veterans.import_not_found"
    message = "未找到该导入任务"


# Excel never writes a DTD; one in an XML part openpyxl reads is an XXE or entity-expansion attempt.
# Searched for in UTF-8 and UTF-16.
XML_DECLARATIONS = tuple(
    marker.encode(encoding) for marker in ("<!DOCTYPE", "<!ENTITY") for encoding in ("utf-8", "utf-16-le", "utf-16-be")
)


def _has_dtd(archive, info):
    """Whether one zip member declares a DTD or entities (streamed, so a large part is never held whole)."""
    overlap = max(len(m) for m in XML_DECLARATIONS)
    tail = b""
    with archive.open(info) as member:
        while chunk := member.read(1 << 20):
            window = tail + chunk
            if any(marker in window for marker in XML_DECLARATIONS):
                return True
            tail = window[-overlap:]
    return False


def _open(content):
    """The uploaded workbook, opened read-only. :raises ImportFileInvalid, ImportUnsafeFile:"""
    if not content or len(content) > MAX_BYTES or content[:4] != b"PK\x03\x04":
        raise ImportFileInvalid()
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            if sum(i.file_size for i in archive.infolist()) > 20 * MAX_BYTES:  # a zip bomb
                raise ImportFileInvalid()
            parts = [i for i in archive.infolist() if i.filename.lower().endswith((".xml", ".rels", ".vml"))]
            if any(_has_dtd(archive, info) for info in parts):
                raise ImportUnsafeFile()
        # openpyxl parses through defusedxml (installed), which refuses entities even if a part slipped past.
        return load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, EOFError, zlib.error):
        raise ImportFileInvalid() from None


def _header_map(sheet):
    first = next(sheet.iter_rows(min_row=1, max_row=1, values_only=True), ())
    columns = {str(v).strip(): i for i, v in enumerate(first) if v is not None}
    missing = [h for h in REQUIRED if h not in columns]
    if missing:
        raise ImportFileInvalid(details={"file": f"缺少表头：{'、'.join(missing)}"})
    return {HEADERS[h]: i for h, i in columns.items() if h in HEADERS}


def start_import(*, actor, filename, content):
    """Check the upload and queue an import job. :returns: ImportJob. :raises PermissionDenied, ImportFileInvalid:"""
    require_permission(actor, "veterans.import")
    workbook = _open(content)
    try:
        sheet = workbook.worksheets[0]
        _header_map(sheet)
        # Sheets written by other tools often lack a dimension record, so count the rows themselves.
        total = sum(1 for _ in sheet.iter_rows(min_row=2, max_col=1, values_only=True))
    finally:
        workbook.close()
    if total > MAX_ROWS:
        raise ImportFileInvalid(details={"file": f"单次最多导入{MAX_ROWS}行"})
    from backend.veterans.tasks import start_job

    with transaction():
        job = ImportJob(
            created_by_id=actor.id,
            unit_id=actor.org_unit_id,
            filename=(filename or "upload.xlsx")[-200:],
            total_rows=total,
            content=content,
        )
        db.session.add(job)
        db.session.flush()
        audit_service.record(actor=actor, action="veterans.import", object_type="import_job", object_id=job.id)
        after_commit(start_job, job.id)
    return job


def get_import(*, actor, job_id):
    """An import job started in the actor's subtree. :raises ImportNotFound:"""
    require_permission(actor, "veterans.import")
    return get_scoped(ImportJob, job_id, actor=actor, unit_column=ImportJob.unit_id, not_found=ImportNotFound)


def recent_imports(*, actor, limit=10):
    """The latest import jobs started in the actor's subtree, newest first (no personal data: counts only)."""
    require_permission(actor, "veterans.import")
    query = scoped(select(ImportJob), actor, ImportJob.unit_id).order_by(ImportJob.id.desc()).limit(limit)
    return db.session.scalars(query).all()


def _cell(row, columns, key):
    index = columns.get(key)
    value = row[index] if index is not None and index < len(row) else None
    if isinstance(value, str):
        value = clean_name(import_files.unescape_cell(value))
    return value if value not in ("", None) else None


def _parse_date(value):
    if value is None or isinstance(value, date):
        return value.date() if isinstance(value, datetime) else value
    try:
        return date.fromisoformat(str(value).replace("/", "-").replace(".", "-"))
    except ValueError:
        raise ValidationFailed(details={"placement_date": "安置日期格式应为 YYYY-MM-DD"}) from None


def _row_fields(row, columns):
    fields = {key: _cell(row, columns, key) for key in ("name", "id_number", "phone", "address", "grid_worker")}
    fields = {k: (str(v) if v is not None else None) for k, v in fields.items()}
    fields["placement_date"] = _parse_date(_cell(row, columns, "placement_date"))
    fields["party_member"] = str(_cell(row, columns, "party_member") or "").strip() in ("是", "党员", "Y", "y", "1")
    return fields


class _Units:
    """Station and grid names in the job's scope; a name used twice in scope is ambiguous."""

    def __init__(self, actor):
        self.stations, self.ambiguous = {}, set()
        for unit in stations_in_scope(actor):
            if unit.name in self.stations:
                self.ambiguous.add(unit.name)
            self.stations[unit.name] = unit
        self.grids = {(g.parent_id, g.name): g for g in grids_in_scope(actor)}

    def resolve(self, station_name, grid_name):
        if not station_name:
            raise ValidationFailed(details={"station": "服务站为空"})
        if station_name in self.ambiguous:
            raise ValidationFailed(details={"station": f"服务站“{station_name}”重名，请联系管理员"})
        station = self.stations.get(station_name)
        if station is None:
            raise ValidationFailed(details={"station": f"服务站“{station_name}”不存在或不在管辖范围内"})
        grid = None
        if grid_name:
            grid = self.grids.get((station.id, grid_name))
            if grid is None:
                raise ValidationFailed(details={"grid": f"网格“{grid_name}”不属于该服务站"})
        return station, grid


def _reason(error):
    return "；".join(str(v) for v in error.details.values()) if error.details else error.message


def run_import(job_id):
    """Process a queued job: import the good rows in batches, record every rejected row with its reason.

    Whatever goes wrong, the job ends (failed, the upload cleared); only the exception's type is logged, since its
    text may quote a cell.
    """
    job = db.session.get(ImportJob, job_id)
    if job is None or job.done:
        return
    with transaction():
        job.status = "running"
    try:
        _process(job)
    except AppError as error:
        _fail(job_id, _reason(error))
    except Exception as error:  # noqa: BLE001 - a job must never stay "running"; the cause goes to the log by type
        logger.error("import job %s failed: %s", job_id, type(error).__name__)
        _fail(job_id, INTERNAL_FAILURE)


INTERNAL_FAILURE = "导入过程中发生系统错误，已处理的行已保存，请稍后重新导入原表格或联系管理员"


def _fail(job_id, reason):
    db.session.rollback()
    job = db.session.get(ImportJob, job_id)
    with transaction():
        job.status, job.error, job.finished_at, job.content = "failed", reason, utcnow(), None


def _process(job):
    actor = db.session.get(Staff, job.created_by_id)
    get_unit_in_scope(actor, job.unit_id)
    workbook = _open(job.content)
    try:
        sheet = workbook.worksheets[0]
        columns = _header_map(sheet)
        units = _Units(actor)
        seen, rejections, rejected_rows, imported, processed = set(), [], [], 0, 0
        rows = sheet.iter_rows(min_row=2, values_only=True)
        while batch := [r for _, r in zip(range(BATCH), rows, strict=False)]:
            members = []  # ids of imported party members: their membership rows, set-based per batch
            with transaction():
                for row in batch:
                    processed += 1
                    line = processed + 1  # the sheet's own row number (row 1 is the header)
                    if not any(v not in (None, "") for v in row):
                        rejections.append({"row": line, "reason": import_files.EMPTY_ROW})
                        continue
                    if str(_cell(row, columns, "id_number") or "").strip() == import_files.DEMO_ID_NUMBER:
                        continue  # the template's example row
                    try:
                        veteran = _import_row(actor, row, columns, units, seen)
                        imported += 1
                        if veteran.party_member:  # its membership row: set-based below
                            members.append(veteran.id)
                    except AppError as error:
                        rejections.append({"row": line, "reason": _reason(error)})
                        rejected_rows.append((import_files.row_values(row, columns), _reason(error)))
                sync_imported(actor=actor, veteran_ids=members)
                job.processed_rows, job.imported_rows, job.rejections = processed, imported, list(rejections)
    finally:
        workbook.close()
    with transaction():
        job.total_rows = processed
        job.status, job.finished_at = "done", utcnow()
        job.content = import_files.seal_rejected(rejected_rows)  # the upload is gone; the rejects stay 24 h


def _import_row(actor, row, columns, units, seen):
    fields = _row_fields(row, columns)
    station, grid = units.resolve(_cell(row, columns, "station"), _cell(row, columns, "grid"))
    number = (fields.get("id_number") or "").strip().upper()
    if number in seen:
        raise ValidationFailed(details={"id_number": "与表中前面的行身份证号重复"})
    nested = db.session.begin_nested()
    try:
        veteran = build_veteran(
            actor=actor, fields=fields, station_id=station.id, grid_id=grid.id if grid else None, channel="import"
        )
        nested.commit()
    except AppError:
        nested.rollback()
        raise
    except IntegrityError:  # the same ID number registered concurrently
        nested.rollback()
        raise ValidationFailed(details={"id_number": "该身份证号码已登记，请勿重复录入"}) from None
    seen.add(number)
    return veteran
