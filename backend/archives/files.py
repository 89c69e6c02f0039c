"""The digital archive (数字档案): scanned files attached to items, with the upload checks every attachment passes
(backend/uploads.py: type by magic bytes, size, malware scan, images re-encoded, active PDFs refused), stored under a
server-made name. Viewing a scan is a lookup (Art. 8): it needs archives.manage, an archive still in custody, and the
viewer's own approved lookup or copy request (requester_kind "staff", filed by the viewer, approved by another
approver, not yet done) naming the scan's item. There is no exception for whoever uploaded the scan: checking a scan
after intake goes through a request like any lookup. Every view is audited, logged permanently ("file_viewed", with
the request) and watermarked with the viewer and the time; the stored file never changes."""

import hashlib
import secrets

from sqlalchemy import func, select

from backend import uploads
from backend.archives import watermark
from backend.archives.common import (
    ArchiveFileNotFound,
    append_log,
    audit,
    get_archive,
    require_in_custody,
)
from backend.archives.models import Archive, ArchiveFile, ArchiveItem, ArchiveRequest
from backend.db import transaction, utcnow
from backend.errors import RuleViolation, ValidationFailed
from backend.extensions import db
from backend.orgs.scope import require_permission
from backend.registration.attachments import _display_name, storage_dir

MAX_BYTES = uploads.MAX_BYTES
MAX_FILES_PER_ITEM = 20


class ArchiveFileRejected(ValidationFailed):
    message = "仅支持 JPG、PNG 图片或 PDF 文件，单个不超过5MB"


class TooManyFiles(RuleViolation):
    message = f"每条材料最多上传{MAX_FILES_PER_ITEM}个扫描件"


class LookupRequired(RuleViolation):
    message = "查看扫描件即为查阅档案：须由本人登记包含该材料的查阅或复制申请，经另一位审批人批准后方可查看"


def _approved_requests(actor, archive_id):
    """The actor's own approved (not yet done) staff requests of the archive, newest first."""
    return db.session.scalars(
        select(ArchiveRequest)
        .where(
            ArchiveRequest.archive_id == archive_id,
            ArchiveRequest.state == "approved",
            ArchiveRequest.requester_kind == "staff",
            ArchiveRequest.requested_by_id == actor.id,
        )
        .order_by(ArchiveRequest.id.desc())
    ).all()


def viewable_items(actor, archive):
    """The ids of the archive's items whose scans the actor may view now (see the module docstring)."""
    if archive.state != "in_custody" or not actor.can("archives.manage"):
        return set()
    return {int(i) for r in _approved_requests(actor, archive.id) for i in r.item_ids or ()}


def covering_request(actor, archive, item_id):
    """The actor's own approved request naming `item_id`, or None."""
    return next((r for r in _approved_requests(actor, archive.id) if item_id in (r.item_ids or ())), None)


def add_file(*, actor, archive_id, item_id, filename, data):
    """Attach a scan to an item of an archive in custody. Returns the ArchiveFile.

    :raises PermissionDenied, ArchiveNotFound, ArchiveTransferred, ArchiveFileRejected, TooManyFiles, ScanUnavailable
    """
    require_permission(actor, "archives.manage")
    get_archive(actor=actor, archive_id=archive_id, permission="archives.manage")  # scope before reading the file
    try:
        content_type, data = uploads.inspect_upload(data)  # before any transaction: nothing is written on refusal
    except uploads.Rejected as refusal:
        raise ArchiveFileRejected(refusal.message, details={"file": refusal.message}) from None
    stored_name = secrets.token_hex(16) + uploads.extension(content_type)
    path = storage_dir() / stored_name
    try:
        with transaction():
            archive = get_archive(actor=actor, archive_id=archive_id, permission="archives.manage", lock=True)
            require_in_custody(archive)
            item = db.session.get(ArchiveItem, item_id) if item_id else None
            if item is None or item.archive_id != archive.id:
                raise ValidationFailed(details={"item_id": "请选择扫描件所属的材料"})
            count = db.session.scalar(select(func.count()).where(ArchiveFile.item_id == item.id))
            if count >= MAX_FILES_PER_ITEM:
                raise TooManyFiles()
            row = ArchiveFile(
                item_id=item.id,
                stored_name=stored_name,
                content_type=content_type,
                size=len(data),
                sha256=hashlib.sha256(data).hexdigest(),
                display_name=_display_name(filename, uploads.extension(content_type)),
                uploaded_by_id=actor.id,
            )
            db.session.add(row)
            db.session.flush()
            audit(
                actor,
                "archive",
                archive.id,
                archive.station_id,
                action="archives.file_added",
                file_id=row.id,
                item=item.seq,
            )
            path.write_bytes(data)
    except BaseException:
        path.unlink(missing_ok=True)  # the transaction rolled back: no orphan file
        raise
    return row


def files_of(archive_id):
    """{item_id: [ArchiveFile, ...]} of an archive."""
    rows = db.session.scalars(
        select(ArchiveFile)
        .join(ArchiveItem, ArchiveItem.id == ArchiveFile.item_id)
        .where(ArchiveItem.archive_id == archive_id)
        .order_by(ArchiveFile.id)
    )
    found = {}
    for row in rows:
        found.setdefault(row.item_id, []).append(row)
    return found


def view_file(*, actor, file_id, now=None):
    """(watermarked bytes, content_type, display_name) of a scan; audited and logged permanently with the request.

    :raises PermissionDenied, ArchiveFileNotFound, ArchiveTransferred, LookupRequired
    """
    require_permission(actor, "archives.manage")
    found = db.session.execute(
        select(ArchiveFile, ArchiveItem, Archive)
        .join(ArchiveItem, ArchiveItem.id == ArchiveFile.item_id)
        .join(Archive, Archive.id == ArchiveItem.archive_id)
        .where(ArchiveFile.id == file_id)
    ).first()
    if found is None:
        raise ArchiveFileNotFound()
    row, item, _ = found
    archive = get_archive(actor=actor, archive_id=found.Archive.id, permission="archives.manage")
    require_in_custody(archive)
    request = covering_request(actor, archive, item.id)
    if request is None:
        raise LookupRequired(details={"item_id": item.id})
    now = now or utcnow()
    data = (storage_dir() / row.stored_name).read_bytes()
    stamped = watermark.stamp(data, row.content_type, actor, now)
    with transaction():
        append_log(
            archive, "file_viewed", actor=actor, request=request, items=[f"{item.seq}. {item.title}"], file_id=row.id
        )
        audit(
            actor,
            "archive",
            archive.id,
            archive.station_id,
            action="archives.file_viewed",
            file_id=row.id,
            request_id=request.id,
        )
    return stamped, row.content_type, row.display_name
