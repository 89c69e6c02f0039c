"""Complaints (投诉) and suggestions (建议) from the phone, about a unit (by default the veteran's station) or a staff
member who served them, with proof attachments (backend/uploads.py checks, like assistance proof).

Both open a case for the unit above the one concerned: a suggestion gets an answer within the same deadline and
loop as a complaint (one loop, one set of figures), escalated alike when overdue.
"""

import hashlib
import secrets

from sqlalchemy import func, select

from backend import denials, pii, uploads
from backend.audit import service as audit_service
from backend.db import transaction
from backend.errors import ValidationFailed
from backend.extensions import db
from backend.feedback import cases, pending
from backend.feedback.models import COMPLAINT_KINDS, SUBJECTS, Complaint, ComplaintAttachment, FeedbackCase
from backend.feedback.rules import (
    TEXT_MAX,
    AttachmentNotFound,
    AttachmentRejected,
    CaseStateInvalid,
    ComplaintNotFound,
    TargetInvalid,
    TooManyAttachments,
    setting,
)
from backend.registration.attachments import _display_name, storage_dir

MAX_BYTES = uploads.MAX_BYTES


def _clean(kind, about, text, subject, subject_id):
    errors = {}
    if kind not in COMPLAINT_KINDS:
        errors["kind"] = "请选择投诉或建议"
    if about not in ("unit", "staff"):
        errors["about"] = "请选择反映的对象"
    text = (text or "").strip()
    if not text:
        errors["text"] = "请填写内容"
    elif len(text) > TEXT_MAX:
        errors["text"] = f"内容不超过{TEXT_MAX}字"
    if (subject is None) != (subject_id is None) or (subject is not None and subject not in SUBJECTS):
        errors["subject"] = "请选择相关的服务"
    if errors:
        raise ValidationFailed(details=errors)
    return text


def submit(*, account, kind, text, about="unit", unit_id=None, staff_id=None, subject=None, subject_id=None):
    """A complaint or suggestion; opens its case. Returns (complaint, case).

    :raises ValidationFailed, TargetInvalid (a unit or person that did not serve the veteran), EventNotFound:"""
    text = _clean(kind, about, text, subject, subject_id)
    veteran_id = account.veteran_id
    with transaction():
        units, people = pending.targets(veteran_id)
        own_station = next(iter(units), None)
        if about == "staff":
            if staff_id not in people:
                raise TargetInvalid(details={"staff_id": TargetInvalid.message})
            unit_id = unit_id or own_station
        if unit_id is None:
            unit_id = own_station
        if unit_id not in units:
            raise TargetInvalid(details={"unit_id": TargetInvalid.message})
        if subject is not None:
            pending.find_event(veteran_id, subject, subject_id)
        complaint = Complaint(
            veteran_id=veteran_id,
            kind=kind,
            unit_id=unit_id,
            staff_id=staff_id if about == "staff" else None,
            subject=subject,
            subject_id=subject_id,
            text_sealed=pii.encrypt(text, context="complaint.text"),
        )
        db.session.add(complaint)
        db.session.flush()
        audit_service.record(
            actor=account,
            action="feedback.complaint_submitted",
            object_type="complaint",
            object_id=complaint.id,
            org_path=cases.unit_path(unit_id),
            details={"kind": kind, "about": about},  # never the person's id: the row is in the subject's subtree
        )
        case = cases.open_case(
            actor=account,
            source="complaint",
            veteran_id=veteran_id,
            subject_unit_id=unit_id,
            subject_staff_id=complaint.staff_id,
            complaint=complaint,
        )
    return complaint, case


def get_own(*, veteran_id, complaint_id, lock=False):
    """The veteran's own complaint (`lock`: FOR UPDATE, serialising writes under it). :raises ComplaintNotFound:"""
    query = select(Complaint).where(Complaint.id == complaint_id, Complaint.veteran_id == veteran_id)
    complaint = db.session.scalars(query.with_for_update() if lock else query).first()
    if complaint is None:
        if denials.exists(Complaint, complaint_id):
            raise denials.mark(ComplaintNotFound(), object_type="complaint", object_id=complaint_id)
        raise ComplaintNotFound()
    return complaint


def list_own(*, veteran_id, cursor=None, limit=20):
    """(rows of (complaint, case state), next_cursor), newest first, keyset by id."""
    query = (
        select(Complaint, FeedbackCase.state)
        .outerjoin(FeedbackCase, FeedbackCase.complaint_id == Complaint.id)
        .where(Complaint.veteran_id == veteran_id)
    )
    if cursor:
        query = query.where(Complaint.id < cursor)
    rows = db.session.execute(query.order_by(Complaint.id.desc()).limit(limit + 1)).all()
    return rows[:limit], (rows[limit - 1][0].id if len(rows) > limit else None)


def state_of(complaint_id):
    return db.session.scalar(select(FeedbackCase.state).where(FeedbackCase.complaint_id == complaint_id))


def text_of(complaint):
    return pii.decrypt(complaint.text_sealed, context="complaint.text")


def attachments_of(complaint_id):
    return db.session.scalars(
        select(ComplaintAttachment)
        .where(ComplaintAttachment.complaint_id == complaint_id)
        .order_by(ComplaintAttachment.id)
    ).all()


def add_attachment(*, account, complaint_id, filename, data):
    """Proof for the veteran's own complaint until its case is closed. :raises AttachmentRejected,
    TooManyAttachments, ComplaintNotFound, CaseStateInvalid, ScanUnavailable:"""
    try:
        content_type, data = uploads.inspect_upload(data)  # before any transaction: nothing written on refusal
    except uploads.Rejected as refusal:
        raise AttachmentRejected(refusal.message, details={"file": refusal.message}) from None
    stored_name = secrets.token_hex(16) + uploads.extension(content_type)
    path = storage_dir() / stored_name
    try:
        with transaction():
            # the row lock serialises concurrent uploads: the count below cannot be read twice before either insert
            complaint = get_own(veteran_id=account.veteran_id, complaint_id=complaint_id, lock=True)
            if state_of(complaint.id) == "closed":
                raise CaseStateInvalid("该投诉建议已办结，不能再补充材料", details={"state": "closed"})
            count = db.session.scalar(select(func.count()).where(ComplaintAttachment.complaint_id == complaint.id))
            if count >= setting("FEEDBACK_MAX_ATTACHMENTS"):
                raise TooManyAttachments()
            attachment = ComplaintAttachment(
                complaint_id=complaint.id,
                stored_name=stored_name,
                content_type=content_type,
                size=len(data),
                sha256=hashlib.sha256(data).hexdigest(),
                display_name=_display_name(filename, uploads.extension(content_type)),
            )
            db.session.add(attachment)
            db.session.flush()
            audit_service.record(
                actor=account,
                action="feedback.attachment_added",
                object_type="complaint",
                object_id=complaint.id,
                org_path=cases.unit_path(complaint.unit_id),
                details={"attachment_id": attachment.id},
            )
            path.write_bytes(data)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return attachment


def open_for_staff(*, actor, case_id, attachment_id):
    """(bytes, content_type, display_name) of a case's complaint attachment for handlers; audited."""
    case = cases.get_case(actor=actor, case_id=case_id, permission="feedback.handle")
    attachment = db.session.get(ComplaintAttachment, attachment_id)
    if attachment is None or not case.complaint_id or attachment.complaint_id != case.complaint_id:
        raise AttachmentNotFound()
    with transaction():
        cases.audit(actor, "feedback.attachment_download", case, attachment_id=attachment.id)
    return (storage_dir() / attachment.stored_name).read_bytes(), attachment.content_type, attachment.display_name
