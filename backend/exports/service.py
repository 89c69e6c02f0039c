"""Export jobs: request one (checked and audited), run it in the worker, download it, purge it after its lifetime.

The file is written by the worker, streamed row by row (backend/exports/writer.py), under EXPORT_DIR with a name the
server generates. Only the staff member who asked may download it, while the unit exported is still in their scope
and before the link expires; every other case gets the same answer as a job that does not exist.
"""

import logging
import secrets
from datetime import timedelta
from pathlib import Path

from celery.exceptions import SoftTimeLimitExceeded
from flask import current_app
from sqlalchemy import func, select, update

from backend import denials
from backend import tasks as task_queue
from backend.audit import service as audit_service
from backend.db import after_commit, transaction, utcnow
from backend.errors import AppError, NotFound, RuleViolation, ValidationFailed
from backend.exports import registry
from backend.exports.models import ACTIVE, ExportJob
from backend.exports.writer import write_workbook
from backend.extensions import db
from backend.orgs.scope import get_unit_in_scope, require_permission, scoped
from backend.staff.models import Staff

logger = logging.getLogger(__name__)

PAGE = 20
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
INTERNAL_FAILURE = "导出过程中发生系统错误，请稍后重新导出或联系管理员"
TIMED_OUT = "导出超时未完成，请缩小范围（如按下级机构分别导出）后重试"
NOT_STARTED = "导出任务未能开始，请重新导出"
REQUESTER_GONE = "申请人账号已停用或已无导出权限"


class ExportNotFound(NotFound):
    code = "exports.not_found"
    message = "未找到该导出文件，或下载链接已过期"


class TooManyExports(RuleViolation):
    code = "exports.too_many"
    message = "您已有导出任务正在进行，请等其完成后再导出"


# Per staff member, queued or running at once: one clerk cannot fill the exports queue (or the disk) for everybody.
MAX_ACTIVE_PER_STAFF = 2


def export_dir():
    """The export files' directory, absolute: the worker writes and send_file reads the same path whatever the cwd."""
    path = Path(current_app.config.get("EXPORT_DIR") or Path(current_app.instance_path) / "exports").resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


def request_export(*, actor, kind, params):
    """Check and queue an export.

    :param kind: a registered kind name (backend/exports/registry.py).
    :param params: the kind's filters (plain values from the page); the kind keeps only what it understands.
    :returns: the queued ExportJob.
    :raises ValidationFailed: unknown kind or bad parameters. :raises PermissionDenied, OrgUnitNotFound: (the kind's)
    """
    spec = registry.get_kind(kind)
    if spec is None:
        raise ValidationFailed(details={"kind": "不支持的导出类型"})
    require_permission(actor, spec.permission)
    source = spec.build(actor, dict(params or {}))  # checks parameters and scope; reads no rows
    with transaction():
        active = (
            select(func.count())
            .select_from(ExportJob)
            .where(ExportJob.created_by_id == actor.id, ExportJob.status.in_(ACTIVE))
        )
        if db.session.scalar(active) >= MAX_ACTIVE_PER_STAFF:
            raise TooManyExports(details={"active": MAX_ACTIVE_PER_STAFF})
        job = ExportJob(
            kind=kind,
            params=source.params,
            created_by_id=actor.id,
            unit_id=source.unit_id or actor.org_unit_id,
            status="queued",
            rows_done=0,
        )
        db.session.add(job)
        db.session.flush()
        audit_service.record(
            actor=actor,
            action="export.requested",
            object_type="export_job",
            object_id=job.id,
            details={"kind": kind, "params": source.params},
        )
        after_commit(_enqueue, job.id)
    return job


def _enqueue(job_id):
    from backend.exports.tasks import run_export
    from config.settings import QueueNames

    task_queue.enqueue(run_export, job_id, queue=QueueNames.EXPORTS)


def _set(job_id, **values):
    """Update the job's row in a short transaction of its own (progress must not wait for the export to end)."""
    with transaction():
        return db.session.execute(update(ExportJob).where(ExportJob.id == job_id).values(**values)).rowcount


def _claim(job_id):
    """queued -> running, atomically: a redelivered or duplicate task finds nothing to claim and does nothing."""
    with transaction():
        claimed = db.session.execute(
            update(ExportJob)
            .where(ExportJob.id == job_id, ExportJob.status == "queued")
            .values(status="running", started_at=utcnow())
        ).rowcount
    return claimed == 1


def _remove_files(relative):
    if not relative:
        return
    base = export_dir()
    for path in (base / relative, base / f"{relative}.part"):
        path.unlink(missing_ok=True)


def run(job_id):
    """Build export `job_id` (the Celery task's body). Idempotent: only a queued job is run.

    Re-checks the requester's permission and scope, streams the rows to a file, updates rows_done after every batch,
    and audits export.finished with the row count. On any failure the job is marked failed with a Chinese message,
    the partial file is removed, and only the exception's type is logged (its text may quote a row).
    """
    if not _claim(job_id):
        return
    job = db.session.get(ExportJob, job_id)
    relative = f"{job.id}-{secrets.token_hex(8)}.xlsx"
    try:
        spec = registry.get_kind(job.kind)
        actor = db.session.get(Staff, job.created_by_id)
        if spec is None or actor is None or not actor.can(spec.permission):
            raise ValidationFailed(REQUESTER_GONE)
        get_unit_in_scope(actor, job.unit_id)
        source = spec.build(actor, dict(job.params))
        _set(job_id, file_path=relative, rows_total=source.count() if source.count else None)
        part = export_dir() / f"{relative}.part"
        written = write_workbook(
            part,
            title=spec.title,
            header=source.header,
            rows=source.rows,
            sheet_rows=current_app.config["EXPORT_SHEET_ROWS"],
            on_progress=lambda n: _set(job_id, rows_done=n),
            progress_every=registry.BATCH,
        )
        final = part.with_name(relative)
        part.replace(final)
        finished = utcnow()
        with transaction():
            job = db.session.get(ExportJob, job_id)
            job.status, job.rows_done, job.rows_total = "done", written, written
            job.size, job.finished_at = final.stat().st_size, finished
            job.expires_at = finished + current_app.config["EXPORT_LINK_TTL"]
            job.file_name = f"{spec.title}-{job.id}-{finished.strftime('%Y%m%d')}.xlsx"
            audit_service.record(
                actor=actor,
                action="export.finished",
                object_type="export_job",
                object_id=job.id,
                details={"kind": job.kind, "rows": written},
            )
    except (Exception, SoftTimeLimitExceeded) as error:  # noqa: BLE001 - a job must never stay running
        _fail(job_id, relative, error)


def _fail(job_id, relative, error):
    db.session.rollback()
    _remove_files(relative)
    if isinstance(error, AppError):  # the capability's own message, in Chinese and without personal data
        message = "；".join(str(v) for v in error.details.values()) if error.details else error.message
    else:
        message = TIMED_OUT if isinstance(error, SoftTimeLimitExceeded) else INTERNAL_FAILURE
    logger.error("export job %s failed: %s", job_id, type(error).__name__)
    with transaction():
        job = db.session.get(ExportJob, job_id)
        job.status, job.error, job.finished_at, job.file_path = "failed", message[:500], utcnow(), None
        actor = db.session.get(Staff, job.created_by_id)
        audit_service.record(
            actor=actor,
            action="export.finished",
            result="failure",
            object_type="export_job",
            object_id=job.id,
            details={"kind": job.kind, "rows": job.rows_done},
        )


def list_jobs(*, actor, after=None, limit=PAGE):
    """The actor's own export jobs, newest first, keyset-paged by id. :returns: (jobs, next_after or None)"""
    query = select(ExportJob).where(ExportJob.created_by_id == actor.id)
    if after:
        query = query.where(ExportJob.id < after)
    jobs = db.session.scalars(query.order_by(ExportJob.id.desc()).limit(limit + 1)).all()
    return jobs[:limit], (jobs[limit - 1].id if len(jobs) > limit else None)


def get_download(*, actor, job_id):
    """The file of a finished export, for its requester only, while the unit is in scope and before expiry; audited.

    :returns: (absolute path, download name).
    :raises ExportNotFound: for every refusal alike (someone else's job, out of scope, expired, not finished).
    """
    try:
        job_id = int(job_id)
    except (TypeError, ValueError):
        raise ExportNotFound() from None
    query = scoped(select(ExportJob).where(ExportJob.id == job_id), actor, ExportJob.unit_id)
    job = db.session.scalars(query.where(ExportJob.created_by_id == actor.id)).first()
    if job is None:
        if denials.exists(ExportJob, job_id):
            raise denials.mark(ExportNotFound(), object_type="export_job", object_id=job_id)
        raise ExportNotFound()
    spec = registry.get_kind(job.kind)
    path = export_dir() / job.file_path if job.file_path else None
    usable = job.status == "done" and job.expires_at and job.expires_at > utcnow()
    if not usable or spec is None or not actor.can(spec.permission) or path is None or not path.is_file():
        raise ExportNotFound()
    with transaction():
        audit_service.record(
            actor=actor,
            action="export.downloaded",
            object_type="export_job",
            object_id=job.id,
            details={"kind": job.kind, "rows": job.rows_done},
        )
    return path, job.file_name


def purge_expired(now=None):
    """Delete the files of exports past their link lifetime (marked expired), and fail jobs stuck in running beyond
    the task's hard limit (their worker died) or queued for longer than a link lives. :returns: jobs changed."""
    now = now or utcnow()
    config = current_app.config
    changed = 0
    expired = select(ExportJob).where(ExportJob.status == "done", ExportJob.expires_at <= now)
    hard_limit = timedelta(seconds=config["EXPORT_TASK_TIME_LIMIT"])
    stuck = select(ExportJob).where(ExportJob.status == "running", ExportJob.started_at < now - hard_limit)
    queued_too_long = ExportJob.created_at < now - config["EXPORT_LINK_TTL"]
    never = select(ExportJob).where(ExportJob.status == "queued", queued_too_long)
    passes = ((expired, "expired", None), (stuck, "failed", TIMED_OUT), (never, "failed", NOT_STARTED))
    for query, status, message in passes:
        while jobs := db.session.scalars(query.limit(500)).all():
            for job in jobs:
                _remove_files(job.file_path)
            with transaction():
                for job in jobs:
                    job.status, job.file_path = status, None
                    if message:
                        job.error, job.finished_at = message, now
            changed += len(jobs)
    return changed
