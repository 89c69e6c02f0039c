"""Proof attached to registration sections: JPEG, PNG or PDF up to 5 MB, checked by magic bytes (never by the
name or the declared type), stored under a name the server makes, never executed, downloaded with a server-set
Content-Disposition. Staff downloads are audited.
"""

import hashlib
import re
import secrets
import struct
from pathlib import Path

from flask import current_app
from sqlalchemy import func, select

from backend.audit import service as audit_service
from backend.db import after_commit, transaction
from backend.errors import NotFound, RuleViolation, ValidationFailed
from backend.extensions import db
from backend.registration.content import SECTIONS
from backend.registration.models import RegistrationAttachment
from backend.registration.review import get_for_staff
from backend.registration.service import (
    _editable_sections,
    _ensure_open_for,
    _new_registration,
    find_registration,
    timeline,
)
from backend.registration.windows import today_cst

MAX_BYTES = 5 * 1024 * 1024
MAX_PER_REGISTRATION = 10
MAX_PIXELS = 40_000_000
TYPES = {  # content type: (magic bytes, extension)
    "image/jpeg": (b"\xff\xd8\xff", ".jpg"),
    "image/png": (b"\x89PNG\r\n\x1a\n", ".png"),
    "application/pdf": (b"%PDF-", ".pdf"),
}
LIMITS_TEXT = "仅支持 JPG、PNG 图片或 PDF 文件，单个不超过5MB，每份登记最多10个"


class AttachmentRejected(ValidationFailed):
    code = "registration.attachment_rejected"
    message = LIMITS_TEXT


class AttachmentNotFound(NotFound):
    code = "registration.attachment_not_found"
    message = "未找到该附件"


class TooManyAttachments(RuleViolation):
    code = "registration.too_many_attachments"
    message = "每份登记最多上传10个附件"


def sniff(data):
    """The content type the bytes really are, or None. PNGs larger than MAX_PIXELS are refused (pixel bombs)."""
    for content_type, (magic, _) in TYPES.items():
        if data.startswith(magic):
            if content_type == "image/png":
                if len(data) < 24 or data[12:16] != b"IHDR":
                    return None
                width, height = struct.unpack(">II", data[16:24])
                if width * height > MAX_PIXELS:
                    return None
            return content_type
    return None


def _display_name(filename, extension):
    stem = Path(filename or "").name
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
    content_type = sniff(data or b"")
    if not data or len(data) > MAX_BYTES or content_type is None:
        raise AttachmentRejected(details={"file": LIMITS_TEXT})
    veteran = account.veteran
    today = today_cst(now)
    stored_name = secrets.token_hex(16) + TYPES[content_type][1]
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
        only = _editable_sections(reg)
        if only is not None and section not in only:
            raise ValidationFailed(details={"section": "该项无需修改，已锁定"})
        if reg is None:
            reg = _new_registration(veteran, today.year, "online")
            timeline(reg, actor=account, action="draft_created", channel="online")
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
            display_name=_display_name(filename, TYPES[content_type][1]),
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
            raise AttachmentNotFound()
        _ensure_open_for(reg, account.veteran, today)
        only = _editable_sections(reg)
        if only is not None and attachment.section not in only:
            raise ValidationFailed(details={"section": "该项无需修改，已锁定"})
        stored = storage_dir() / attachment.stored_name
        db.session.delete(attachment)
        after_commit(stored.unlink, missing_ok=True)


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
