"""exports slice (issue 12): run an export job in the test's session and read its file back."""

from openpyxl import load_workbook

from backend.db import transaction, utcnow
from backend.exports import service
from backend.exports.models import ExportJob
from backend.extensions import db


def run_export(actor, kind, params=None):
    """Request and run an export (as the worker would); returns the finished job."""
    job = service.request_export(actor=actor, kind=kind, params=params or {})
    service.run(job.id)
    db.session.expire_all()
    return db.session.get(ExportJob, job.id)


def export_path(job):
    return service.export_dir() / job.file_path


def read_rows(job):
    """{sheet title: [rows as tuples]} of a finished job's file (header rows included)."""
    book = load_workbook(export_path(job), read_only=True)
    try:
        return {sheet.title: list(sheet.iter_rows(values_only=True)) for sheet in book}
    finally:
        book.close()


def create_done_export(staff, unit, *, kind="travel"):
    """A finished export job of `staff` over `unit`, with a small file (the authorization matrix's download)."""
    with transaction():
        job = ExportJob(kind=kind, params={}, created_by_id=staff.id, unit_id=unit.id, status="queued", rows_done=0)
        db.session.add(job)
    path = service.export_dir() / f"{job.id}-matrix.xlsx"
    path.write_bytes(b"PK\x03\x04 matrix")
    with transaction():
        job.status, job.file_path, job.file_name = "done", path.name, "出入境报备-矩阵.xlsx"
        job.finished_at = utcnow()
        job.expires_at = utcnow().replace(year=utcnow().year + 1)
    return job
