"""Contacts (常态化联系记录): record one, list a veteran's history newest first, read the sealed notes (audited)."""

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import or_, select

from backend import pii
from backend.audit import service as audit_service
from backend.care import plans
from backend.care.models import FLAGS, NOTES_CONTEXT, WAYS, ContactRecord
from backend.db import transaction
from backend.errors import NotFound, ValidationFailed
from backend.extensions import db
from backend.orgs.scope import get_scoped, require_permission
from backend.registration.windows import today_cst
from backend.veterans.models import Veteran
from backend.veterans.service import get_veteran

NOTE_KEYS = {"thought": "思想情况", "work": "工作情况", "life": "生活情况"}
NOTE_LIMIT = 1000
PAGE_SIZE = 20


class ContactNotFound(NotFound):
    code = "care.contact_not_found"
    message = "未找到该联系记录"


@dataclass
class History:
    rows: list
    more: str | None  # the keyset cursor of the next (older) page: "<date>_<id>"


def _parse_day(value, name, errors):
    if value in (None, ""):
        return None
    if isinstance(value, date):
        return value
    try:
        day = date.fromisoformat(str(value)[:10])
    except ValueError:
        errors[name] = "请输入正确的日期"
        return None
    if not 2000 <= day.year <= 2100:
        errors[name] = "请输入正确的日期"
        return None
    return day


def clean(*, contact_on, way, notes, flags, follow_up_on, today=None):
    """Validate a contact's fields. :raises ValidationFailed: with a message per field"""
    today, errors = today or today_cst(), {}
    contact_on = _parse_day(contact_on, "contact_on", errors)
    if contact_on is None and "contact_on" not in errors:
        errors["contact_on"] = "请填写联系日期"
    elif contact_on is not None and contact_on > today:
        errors["contact_on"] = "联系日期不能晚于今天"
    elif contact_on is not None and contact_on < today - timedelta(days=366):
        errors["contact_on"] = "联系日期不能早于一年前"
    if way not in WAYS:
        errors["way"] = "请选择联系方式"
    follow_up_on = _parse_day(follow_up_on, "follow_up_on", errors)
    if follow_up_on is not None and contact_on is not None and follow_up_on <= contact_on:
        errors["follow_up_on"] = "回访日期须晚于联系日期"
    flags = [f for f in FLAGS if f in set(flags or ())]
    notes = {k: str((notes or {}).get(k) or "").strip() for k in NOTE_KEYS}
    for key, text in notes.items():
        if len(text) > NOTE_LIMIT:
            errors[f"note_{key}"] = f"不超过 {NOTE_LIMIT} 字"
    if errors:
        raise ValidationFailed(details=errors)
    return contact_on, way, {k: v for k, v in notes.items() if v}, flags, follow_up_on


def record_contact(*, actor, veteran_id, contact_on, way, notes=None, flags=(), follow_up_on=None):
    """Record a contact and move the plan's due date. :raises PermissionDenied, VeteranNotFound, ValidationFailed:"""
    require_permission(actor, "care.contact")
    contact_on, way, notes, flags, follow_up_on = clean(
        contact_on=contact_on, way=way, notes=notes, flags=flags, follow_up_on=follow_up_on
    )
    with transaction():
        veteran = get_veteran(actor=actor, veteran_id=veteran_id, permission="care.contact", lock=True)
        record = ContactRecord(
            veteran_id=veteran.id,
            station_id=veteran.station_id,
            contact_on=contact_on,
            way=way,
            staff_id=actor.id,
            notes_sealed=pii.encrypt_json(notes, context=NOTES_CONTEXT) if notes else None,
            flags=flags,
            follow_up_on=follow_up_on,
        )
        db.session.add(record)
        plan = plans.plan_of(veteran)
        if plan.last_contact_on is None or contact_on >= plan.last_contact_on:
            plan.last_contact_on, plan.follow_up_on = contact_on, follow_up_on  # the latest contact sets the follow-up
        plans.refresh(plan, veteran)
        db.session.flush()
        audit_service.record(
            actor=actor,
            action="care.contact_record",
            object_type="care_contact",
            object_id=record.id,
            details={"veteran_id": veteran.id, "way": way, "flags": flags},
        )
    return record


def _cursor(value):
    try:
        day, ident = (value or "").split("_", 1)
        return date.fromisoformat(day), int(ident)
    except (TypeError, ValueError):
        return None


def history(*, actor, veteran_id, before=None, size=PAGE_SIZE):
    """The veteran's contacts, newest first (keyset on (contact_on, id))."""
    veteran = get_veteran(actor=actor, veteran_id=veteran_id, permission="care.view")
    query = select(ContactRecord).where(ContactRecord.veteran_id == veteran.id)
    cursor = _cursor(before)
    if cursor:
        day, ident = cursor
        query = query.where(
            or_(ContactRecord.contact_on < day, (ContactRecord.contact_on == day) & (ContactRecord.id < ident))
        )
    rows = db.session.scalars(
        query.order_by(ContactRecord.contact_on.desc(), ContactRecord.id.desc()).limit(size + 1)
    ).all()
    more = f"{rows[size - 1].contact_on.isoformat()}_{rows[size - 1].id}" if len(rows) > size else None
    return History(rows[:size], more)


def get_contact(*, actor, contact_id):
    """A contact whose veteran lies in the actor's subtree. :raises ContactNotFound:"""
    require_permission(actor, "care.view")
    contact = get_scoped(ContactRecord, contact_id, actor=actor, unit_column=_veteran_unit(), not_found=ContactNotFound)
    return contact


def _veteran_unit():
    """The contact's veteran's unit (where the veteran is now), as a correlated scalar for scope checks."""
    return select(Veteran.unit_id).where(Veteran.id == ContactRecord.veteran_id).scalar_subquery()


def read_notes(*, actor, contact_id):
    """The notes of one contact, for staff in scope; every reading is audited. :raises ContactNotFound:"""
    with transaction():
        contact = get_contact(actor=actor, contact_id=contact_id)
        notes = pii.decrypt_json(contact.notes_sealed, context=NOTES_CONTEXT) if contact.notes_sealed else {}
        audit_service.record(
            actor=actor,
            action="care.notes_read",
            object_type="care_contact",
            object_id=contact.id,
            details={"veteran_id": contact.veteran_id},
        )
    return contact, [(NOTE_KEYS[k], notes[k]) for k in NOTE_KEYS if notes.get(k)]
