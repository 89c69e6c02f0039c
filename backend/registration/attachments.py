"""Proof attached to registration sections: JPEG, PNG or PDF up to 5 MB, checked by content (backend/uploads.py:
magic bytes, malware scan, images re-encoded, active PDFs refused), stored under a name the server makes, never
executed, downloaded with a server-set Content-Disposition. Staff downloads are audited.
"""

import hashlib
import re
import secrets
from pathlib import Path

from flask import current_app
from sqlalchemy import func, select

from backend import denials, uploads
from backend.audit import service as audit_service
from backend.db import after_commit, transaction
from backend.errors import NotFound, RuleViolation, ValidationFailed
from backend.extensions import db
from backend.names import strip_bidi
from backend.registration.content import SECTIONS
from backend.registration.models import Registration, RegistrationAttachment
from backend.registration.review import get_for_staff
from backend.registration.service import (
    _ensure_open_for,
    find_registration,
    get_or_create_draft,
    require_section_editable,
)
from backend.registration.windows import today_cst

MAX_BYTES = uploads.MAX_BYTES
MAX_PER_REGISTRATION = 10
MAX_PIXELS = uploads.MAX_PIXELS
LIMITS_TEXT = uploads.LIMITS_TEXT


class AttachmentRejected(ValidationFailed):
    code = "registration.attachment_rejected"
    message = LIMITS_TEXT


class AttachmentNotFound(NotFound):
    code = "registration.attachment_not_found"
    message = "未找到该附件"


class TooManyAttachments(RuleViolation):
    code = "registration.too_many_attachments"
    message = "每份登记最多上传10个附件"


def _display_name(filename, extension):
    stem = strip_bidi(Path(filename or "").name)
    stem = re.sub(r"[\x00-\x1f\\/:*?\"<>|]", "", stem)[:80].strip(". ") or "附件"
    return stem if stem.lower().endswith(extension) else f"{stem}{extension}"


def storage_dir():
    path = Path(current_app.config.get("UPLOAD_DIR") or Path(current_app.instance_path) / "uploads")
    path.mkdir(parents=True, exist_ok=True)
    return path


def add_attachment(*, account, section, filename, data, now=None):
    """Attach a file to a section of this year's registration (created as a draft if needed).

    :raises AttachmentRejected, TooManyAttachments, WindowClosed, NotEditable
    """
    if section not in SECTIONS or section == "declaration":
        raise ValidationFailed(details={"section": "请选择需要附证明材料的登记项"})
    try:
        content_type, data = uploads.inspect_upload(data)  # before any transaction: nothing is written on refusal
    except uploads.Rejected as refusal:
        raise AttachmentRejected(refusal.message, details={"file": refusal.message}) from None
    veteran = account.veteran
    today = today_cst(now)
    stored_name = secrets.token_hex(16) + uploads.extension(content_type)
    path = storage_dir() / stored_name
    try:
        return _store(account, veteran, today, section, filename, data, content_type, stored_name, path)
    except BaseException:
        path.unlink(missing_ok=True)  # the transaction rolled back: no orphan file
        raise


def _store(account, veteran, today, section, filename, data, content_type, stored_name, path):
    with transaction():
        reg = find_registration(veteran.id, today.year, lock=True)
        _ensure_open_for(reg, veteran, today)
        require_section_editable(reg, section)
        if reg is None:  # the first upload creates the draft; concurrent first uploads share one row
            reg = get_or_create_draft(veteran, today.year, actor=account, channel="online")
            require_section_editable(reg, section)
        count = db.session.scalar(select(func.count()).where(RegistrationAttachment.registration_id == reg.id))
        if count >= MAX_PER_REGISTRATION:
            raise TooManyAttachments()
        attachment = RegistrationAttachment(
            registration_id=reg.id,
            section=section,
            stored_name=stored_name,
            content_type=content_type,
            size=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
            display_name=_display_name(filename, uploads.extension(content_type)),
        )
        db.session.add(attachment)
        db.session.flush()
        path.write_bytes(data)
    return attachment


def list_attachments(registration_id):
    return db.session.scalars(
        select(RegistrationAttachment)
        .where(RegistrationAttachment.registration_id == registration_id)
        .order_by(RegistrationAttachment.id)
    ).all()


def delete_attachment(*, account, attachment_id, now=None):
    """Remove one of the veteran's own attachments while the registration is editable."""
    today = today_cst(now)
    with transaction():
        reg = find_registration(account.veteran.id, today.year, lock=True)
        attachment = db.session.get(RegistrationAttachment, attachment_id)
        if reg is None or attachment is None or attachment.registration_id != reg.id:
            raise _not_own(attachment, account)
        _ensure_open_for(reg, account.veteran, today)
        require_section_editable(reg, attachment.section)
        stored = storage_dir() / attachment.stored_name
        db.session.delete(attachment)
        after_commit(stored.unlink, missing_ok=True)


def _not_own(attachment, account):
    """AttachmentNotFound, marked as a refusal (audited by the API) when the attachment is another veteran's."""
    error = AttachmentNotFound()
    if attachment is not None:
        owner = db.session.scalar(select(Registration.veteran_id).where(Registration.id == attachment.registration_id))
        if owner != account.veteran.id:
            denials.mark(error, object_type="registration_attachment", object_id=attachment.id)
    return error


def open_for_staff(*, actor, attachment_id):
    """(bytes, content_type, display_name) of an attachment in the actor's scope; every download is audited."""
    attachment = db.session.get(RegistrationAttachment, attachment_id)
    if attachment is None:
        raise AttachmentNotFound()
    reg = get_for_staff(actor=actor, registration_id=attachment.registration_id)
    with transaction():
        audit_service.record(
            actor=actor,
            action="registration.attachment_download",
            object_type="attachment",
            object_id=attachment.id,
            details={"registration_id": reg.id},
        )
    return (storage_dir() / attachment.stored_name).read_bytes(), attachment.content_type, attachment.display_name
