"""Photos of a visit: JPEG, PNG or PDF up to 5 MB, through the same checks as registration attachments
(backend/uploads.py: magic bytes, malware scan, images re-encoded, active PDFs refused), stored under a server-made
name, downloaded with a server-set name. Uploads and downloads are audited."""

import hashlib
import secrets

from sqlalchemy import func, select

from backend import uploads
from backend.audit import service as audit_service
from backend.db import transaction
from backend.errors import NotFound, RuleViolation, ValidationFailed
from backend.extensions import db
from backend.registration.attachments import _display_name, storage_dir
from backend.visits.models import VisitPhoto
from backend.visits.records import get_visit

MAX_PER_VISIT = 10
MAX_BYTES = uploads.MAX_BYTES


class PhotoRejected(ValidationFailed):
    code = "visits.photo_rejected"
    message = "仅支持 JPG、PNG 图片或 PDF 文件，单个不超过5MB，每次走访最多10个"


class PhotoNotFound(NotFound):
    code = "visits.photo_not_found"
    message = "未找到该照片"


class TooManyPhotos(RuleViolation):
    code = "visits.too_many_photos"
    message = "每次走访最多上传10个照片或附件"


def add_photo(*, actor, visit_id, filename, data):
    """Attach a photo to a visit in scope (planned or done; not to one marked not visited).

    :raises VisitNotFound, PhotoRejected, TooManyPhotos, ScanUnavailable:
    """
    visit = get_visit(actor=actor, visit_id=visit_id)
    if visit.status == "skipped":
        raise PhotoRejected("未走访的记录不能上传照片", details={"file": "未走访的记录不能上传照片"})
    try:
        content_type, data = uploads.inspect_upload(data)  # before any transaction: nothing written on refusal
    except uploads.Rejected as refusal:
        raise PhotoRejected(refusal.message, details={"file": refusal.message}) from None
    stored_name = secrets.token_hex(16) + uploads.extension(content_type)
    path = storage_dir() / stored_name
    try:
        with transaction():
            get_visit(actor=actor, visit_id=visit.id, lock=True)  # serialises concurrent uploads for the cap
            count = db.session.scalar(select(func.count()).where(VisitPhoto.visit_id == visit.id))
            if count >= MAX_PER_VISIT:
                raise TooManyPhotos()
            photo = VisitPhoto(
                visit_id=visit.id,
                stored_name=stored_name,
                content_type=content_type,
                size=len(data),
                sha256=hashlib.sha256(data).hexdigest(),
                display_name=_display_name(filename, uploads.extension(content_type)),
                created_by_id=actor.id,
            )
            db.session.add(photo)
            db.session.flush()
            audit_service.record(
                actor=actor,
                action="visits.photo_added",
                object_type="visit_photo",
                object_id=photo.id,
                details={"visit_id": visit.id},
            )
            path.write_bytes(data)
    except BaseException:
        path.unlink(missing_ok=True)  # rolled back: no orphan file
        raise
    return photo


def list_photos(visit_id):
    return db.session.scalars(select(VisitPhoto).where(VisitPhoto.visit_id == visit_id).order_by(VisitPhoto.id)).all()


def open_photo(*, actor, photo_id):
    """(bytes, content_type, display_name) of a photo of a visit in scope; every download is audited."""
    try:
        photo = db.session.get(VisitPhoto, int(photo_id))
    except (TypeError, ValueError, OverflowError):
        photo = None
    if photo is None:
        raise PhotoNotFound()
    get_visit(actor=actor, visit_id=photo.visit_id)  # out of scope: 404 like missing (and the refusal audited)
    with transaction():
        audit_service.record(
            actor=actor,
            action="visits.photo_download",
            object_type="visit_photo",
            object_id=photo.id,
            details={"visit_id": photo.visit_id},
        )
    return (storage_dir() / photo.stored_name).read_bytes(), photo.content_type, photo.display_name
