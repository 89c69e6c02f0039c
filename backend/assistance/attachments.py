"""Proof attached to an assistance case from the phone: the registration attachments' checks (backend/uploads.py:
type by magic bytes, size, malware scan, images re-encoded, active PDFs refused), a server-made stored name, never
executed; staff downloads only by those handling cases in scope, each audited."""

import hashlib
import secrets

from flask import current_app
from sqlalchemy import func, select

from backend import uploads
from backend.assistance.models import AssistanceAttachment
from backend.assistance.rules import CaseStateInvalid
from backend.assistance.service import audit, get_case, get_own_case, require_handler
from backend.db import transaction
from backend.errors import NotFound, RuleViolation, ValidationFailed
from backend.extensions import db
from backend.registration.attachments import _display_name, storage_dir

MAX_BYTES = uploads.MAX_BYTES
OPEN = ("submitted", "under_review")  # proof can be added until the station recommends or rejects


class AttachmentRejected(ValidationFailed):
    code = "assistance.attachment_rejected"
    message = "仅支持 JPG、PNG 图片或 PDF 文件，单个不超过5MB"


class TooManyAttachments(RuleViolation):
    code = "assistance.too_many_attachments"
    message = "每份帮扶申请最多上传10个证明材料"


class AttachmentNotFound(NotFound):
    code = "assistance.attachment_not_found"
    message = "未找到该证明材料"


def add_attachment(*, account, case_id, filename, data):
    """Attach proof to the veteran's own case while it is submitted or under review. Returns the attachment.

    :raises AttachmentRejected, TooManyAttachments, CaseNotFound, CaseStateInvalid, ScanUnavailable
    """
    try:
        content_type, data = uploads.inspect_upload(data)  # before any transaction: nothing is written on refusal
    except uploads.Rejected as refusal:
        raise AttachmentRejected(refusal.message, details={"file": refusal.message}) from None
    stored_name = secrets.token_hex(16) + uploads.extension(content_type)
    path = storage_dir() / stored_name
    try:
        with transaction():
            case = get_own_case(veteran_id=account.veteran_id, case_id=case_id)
            if case.status not in OPEN:
                raise CaseStateInvalid("该申请已审核完毕，不能再补充材料", details={"status": case.status})
            count = db.session.scalar(select(func.count()).where(AssistanceAttachment.case_id == case.id))
            if count >= current_app.config["ASSISTANCE_MAX_ATTACHMENTS"]:
                raise TooManyAttachments()
            attachment = AssistanceAttachment(
                case_id=case.id,
                stored_name=stored_name,
                content_type=content_type,
                size=len(data),
                sha256=hashlib.sha256(data).hexdigest(),
                display_name=_display_name(filename, uploads.extension(content_type)),
            )
            db.session.add(attachment)
            db.session.flush()
            audit(account, "assistance.attachment_added", case, attachment_id=attachment.id)
            path.write_bytes(data)
    except BaseException:
        path.unlink(missing_ok=True)  # the transaction rolled back: no orphan file
        raise
    return attachment


def open_for_staff(*, actor, case_id, attachment_id):
    """(bytes, content_type, display_name) of a case's attachment for staff handling the case; audited.

    :raises PermissionDenied, CaseNotFound, AttachmentNotFound
    """
    require_handler(actor)
    case = get_case(actor=actor, case_id=case_id)
    attachment = db.session.get(AssistanceAttachment, attachment_id)
    if attachment is None or attachment.case_id != case.id:
        raise AttachmentNotFound()
    with transaction():
        audit(actor, "assistance.attachment_download", case, attachment_id=attachment.id)
    return (storage_dir() / attachment.stored_name).read_bytes(), attachment.content_type, attachment.display_name
