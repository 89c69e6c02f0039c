"""Shared pieces of the personnel archives (Art. 8): errors, scoped lookups, the audit helper and the permanent log.

Errors reuse the registered generic codes (backend/errors.py CODES) with archive-specific Chinese messages.
"""

from datetime import date

from sqlalchemy import select

from backend.archives.models import Archive, ArchiveAccessLog, ArchiveLocation, ArchiveRequest
from backend.audit import service as audit_service
from backend.errors import NotFound, RuleViolation, ValidationFailed
from backend.extensions import db
from backend.orgs.models import OrgUnit
from backend.orgs.scope import get_scoped, require_permission
from backend.registration.windows import today_cst
from backend.staff.models import Staff
from backend.veterans.models import Veteran

STATE_LABELS = {"in_custody": "在库保管", "transferred_out": "已转出"}
KIND_LABELS = {"lookup": "查阅", "copy": "复制"}
REQUESTER_LABELS = {"staff": "本单位工作人员", "outside": "外单位"}
REQUEST_STATE_LABELS = {
    "pending": "待审批",
    "approved": "已批准，待查阅",
    "rejected": "不予批准",
    "done": "已办结",
    "cancelled": "已撤销",
}
EVENT_LABELS = {
    "intake": "入档",
    "requested": "提出申请",
    "approved": "批准",
    "rejected": "不予批准",
    "cancelled": "撤销申请",
    "looked_up": "查阅",
    "copied": "复制",
    "file_viewed": "查看数字档案",
    "transferred_out": "转出",
}
EARLIEST_YEAR = 1950  # dates typed into archive forms (intake, transfer, inspections) are never earlier
CHECK_LABELS = {"fire": "防火", "damp": "防潮", "pests": "防虫", "locks": "门锁", "completeness": "完整性"}


class ArchiveNotFound(NotFound):
    message = "未找到该档案"


class LocationNotFound(NotFound):
    message = "未找到该档案存放地点"


class RequestNotFound(NotFound):
    message = "未找到该查阅、复制申请"


class ArchiveFileNotFound(NotFound):
    message = "未找到该数字档案文件"


class ArchiveTransferred(RuleViolation):
    message = "该档案已转出，不能再办理查阅、复制申请或上传数字档案"


class ArchiveExists(RuleViolation):
    message = "该退役军人的档案已入档，不能重复入档"


class SameApprover(RuleViolation):
    message = "登记申请的人不能审批自己登记的申请，请由另一位审批人审批"


class NotApproved(RuleViolation):
    message = "该申请尚未批准，不能查阅或复制"


class RequestStateInvalid(RuleViolation):
    message = "该申请当前状态不允许此操作"


class OpenRequests(RuleViolation):
    message = "该档案还有未办结的查阅、复制申请，请先办结或撤销后再转出"


def text(value, limit):
    return (value or "").strip()[:limit]


def parse_date(value, field, errors, *, required=True, label="日期", not_future=True):
    """A yyyy-mm-dd date from a form value into `errors` on failure; None when empty and optional."""
    if isinstance(value, date):
        parsed = value
    else:
        raw = (value or "").strip()[:10]
        if not raw:
            if required:
                errors[field] = f"请填写{label}"
            return None
        try:
            parsed = date.fromisoformat(raw)
        except ValueError:
            errors[field] = f"{label}格式不正确"
            return None
    if parsed.year < EARLIEST_YEAR:
        errors[field] = f"{label}不正确（不早于{EARLIEST_YEAR}年）"
        return None
    if not_future and parsed > today_cst():
        errors[field] = f"{label}不能晚于今天"
        return None
    return parsed


def fail_if(errors):
    if errors:
        raise ValidationFailed(details=errors)


def unit_path(unit_id):
    return db.session.scalar(select(OrgUnit.path).where(OrgUnit.id == unit_id))


def audit(actor, object_type, object_id, unit_id, *, action, **details):
    audit_service.record(
        actor=actor,
        action=action,
        object_type=object_type,
        object_id=object_id,
        org_path=unit_path(unit_id),
        details=details,
    )


def append_log(archive, event, *, actor, request=None, items=(), **details):
    """One row of the permanent log (INSERT only; the database refuses UPDATE and DELETE)."""
    row = ArchiveAccessLog(
        archive_id=archive.id,
        station_id=archive.station_id,
        request_id=request.id if request is not None else None,
        event=event,
        staff_id=actor.id,
        staff_name=actor.full_name,
        requester=f"{request.requester_name}（{request.requester_unit}）" if request is not None else None,
        purpose=request.purpose if request is not None else None,
        items=list(items),
        details=details,
    )
    db.session.add(row)
    return row


def get_archive(*, actor, archive_id, permission="archives.view", lock=False):
    """An archive of a station in the actor's scope. :raises PermissionDenied, ArchiveNotFound:"""
    require_permission(actor, permission)
    return get_scoped(
        Archive, archive_id, actor=actor, unit_column=Archive.station_id, not_found=ArchiveNotFound, lock=lock
    )


def get_location(*, actor, location_id, permission="archives.view", lock=False):
    require_permission(actor, permission)
    return get_scoped(
        ArchiveLocation,
        location_id,
        actor=actor,
        unit_column=ArchiveLocation.unit_id,
        not_found=LocationNotFound,
        lock=lock,
    )


def get_request(*, actor, request_id, permission="archives.view", lock=False):
    require_permission(actor, permission)
    return get_scoped(
        ArchiveRequest,
        request_id,
        actor=actor,
        unit_column=ArchiveRequest.station_id,
        not_found=RequestNotFound,
        lock=lock,
    )


def require_in_custody(archive):
    if archive.state != "in_custody":
        raise ArchiveTransferred(details={"state": archive.state})


def staff_names(ids):
    ids = {i for i in ids if i}
    if not ids:
        return {}
    return dict(db.session.execute(select(Staff.id, Staff.full_name).where(Staff.id.in_(ids))).all())


def veteran_names(ids):
    ids = {i for i in ids if i}
    if not ids:
        return {}
    return dict(db.session.execute(select(Veteran.id, Veteran.name).where(Veteran.id.in_(ids))).all())


def unit_names(ids):
    ids = {i for i in ids if i}
    if not ids:
        return {}
    return dict(db.session.execute(select(OrgUnit.id, OrgUnit.name).where(OrgUnit.id.in_(ids))).all())
