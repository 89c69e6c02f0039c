"""Proof for a step of an onboarding case, uploaded by staff: the registration attachments' checks (backend/uploads.py:
type by magic bytes, size, malware scan, images re-encoded, active PDFs refused), a server-made stored name, never
executed; downloads by staff with the case in scope, each audited."""

import hashlib
import secrets

from flask import current_app
from sqlalchemy import func, select

from backend import uploads
from backend.db import transaction
from backend.extensions import db
from backend.onboarding.models import STEPS, OnboardingAttachment, OnboardingEvent, OnboardingStep
from backend.onboarding.rules import (
    AttachmentNotFound,
    AttachmentRejected,
    CaseNotFound,
    StepStateInvalid,
    TooManyAttachments,
)
from backend.onboarding.service import audit, get_case
from backend.registration.attachments import _display_name, storage_dir

MAX_BYTES = uploads.MAX_BYTES


def add_attachment(*, actor, case_id, step, filename, data):
    """Attach proof to a step of an open case in scope. Returns the attachment.

    :raises PermissionDenied, CaseNotFound, StepStateInvalid, AttachmentRejected, TooManyAttachments, ScanUnavailable:
    """
    if step not in STEPS:
        raise CaseNotFound("未找到该办理事项")
    get_case(actor=actor, case_id=case_id, permission="onboarding.manage")  # out of scope: 404 before the file check
    try:
        content_type, data = uploads.inspect_upload(data)  # before any transaction: nothing is written on refusal
    except uploads.Rejected as refusal:
        raise AttachmentRejected(refusal.message, details={"file": refusal.message}) from None
    stored_name = secrets.token_hex(16) + uploads.extension(content_type)
    path = storage_dir() / stored_name
    try:
        with transaction():
            case = get_case(actor=actor, case_id=case_id, permission="onboarding.manage", lock=True)
            if case.status != "open":
                raise StepStateInvalid("该接收安置已办结，不能再上传材料", details={"status": case.status})
            item = db.session.scalars(
                select(OnboardingStep).where(OnboardingStep.case_id == case.id, OnboardingStep.step == step)
            ).one()
            count = db.session.scalar(select(func.count()).where(OnboardingAttachment.step_id == item.id))
            if count >= current_app.config["ONBOARDING_MAX_ATTACHMENTS"]:
                raise TooManyAttachments()
            attachment = OnboardingAttachment(
                step_id=item.id,
                stored_name=stored_name,
                content_type=content_type,
                size=len(data),
                sha256=hashlib.sha256(data).hexdigest(),
                display_name=_display_name(filename, uploads.extension(content_type)),
                uploaded_by_id=actor.id,
            )
            db.session.add(attachment)
            db.session.flush()
            db.session.add(
                OnboardingEvent(
                    case_id=case.id, step=step, action="attachment", staff_id=actor.id, note=attachment.display_name
                )
            )
            audit(actor, "onboarding.attachment_added", case, step=step, attachment_id=attachment.id)
            path.write_bytes(data)
    except BaseException:
        path.unlink(missing_ok=True)  # the transaction rolled back: no orphan file
        raise
    return attachment


def open_for_staff(*, actor, case_id, attachment_id):
    """(bytes, content_type, display_name) of a case's proof file for staff with the case in scope; audited.

    :raises PermissionDenied, CaseNotFound, AttachmentNotFound:
    """
    case = get_case(actor=actor, case_id=case_id)
    row = db.session.execute(
        select(OnboardingAttachment, OnboardingStep.case_id, OnboardingStep.step)
        .join(OnboardingStep, OnboardingStep.id == OnboardingAttachment.step_id)
        .where(OnboardingAttachment.id == attachment_id)
    ).first()
    if row is None or row.case_id != case.id:
        raise AttachmentNotFound()
    attachment = row.OnboardingAttachment
    with transaction():
        audit(actor, "onboarding.attachment_download", case, step=row.step, attachment_id=attachment.id)
    return (storage_dir() / attachment.stored_name).read_bytes(), attachment.content_type, attachment.display_name
