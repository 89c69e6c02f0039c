"""Hardship assistance cases: a veteran's request on the phone, a case opened by staff, and the reads of both sides.

Descriptions and notes are sealed (backend/pii); staff see them only when they handle cases (assistance.review or
assistance.approve) in their scope, and every view of a case's details is audited. Life-cycle steps:
backend/assistance/transitions.py.
"""

import re

from sqlalchemy import select

from backend import denials, pii
from backend.assistance import rules
from backend.assistance.models import CATEGORIES, MAX_AMOUNT_FEN, AssistanceAttachment, AssistanceCase, AssistanceEvent
from backend.assistance.rules import CaseNotFound
from backend.audit import service as audit_service
from backend.db import transaction
from backend.errors import PermissionDenied, ValidationFailed
from backend.extensions import db
from backend.notifications.events import notify
from backend.orgs.models import OrgUnit
from backend.orgs.scope import get_scoped, require_permission, scoped
from backend.staff.models import Staff
from backend.veterans.models import Veteran
from backend.veterans.service import VeteranNotFound, id_index

DESCRIPTION_MAX = 2000
LINK = "pages/assistance/detail?id={id}"
HANDLERS = ("assistance.review", "assistance.approve")


def seal(text, field):
    return pii.encrypt(text, context=f"assistance_case.{field}") if text else None


def unseal(case, field):
    token = getattr(case, f"{field}_sealed")
    return pii.decrypt(token, context=f"assistance_case.{field}") if token else None


def _clean(category, description, requested_amount_fen):
    errors = {}
    if category not in CATEGORIES:
        errors["category"] = "请选择困难类别"
    description = (description or "").strip()
    if not description:
        errors["description"] = "请说明困难情况"
    elif len(description) > DESCRIPTION_MAX:
        errors["description"] = f"困难情况说明不超过{DESCRIPTION_MAX}字"
    if requested_amount_fen is not None and not 0 <= requested_amount_fen <= MAX_AMOUNT_FEN:
        errors["requested_amount_fen"] = "申请金额不正确"
    if errors:
        raise ValidationFailed(details=errors)
    return description


def _new_case(veteran, *, category, description, requested_amount_fen, channel, staff=None):
    case = AssistanceCase(
        veteran_id=veteran.id,
        station_id=veteran.station_id,
        category=category,
        status="submitted",
        channel=channel,
        description_sealed=seal(description, "description"),
        requested_amount_fen=requested_amount_fen,
        created_by_id=staff.id if staff is not None else None,
    )
    db.session.add(case)
    db.session.flush()
    db.session.add(
        AssistanceEvent(case_id=case.id, action="submitted", to_status="submitted", staff_id=case.created_by_id)
    )
    tell(case, "您的帮扶申请已提交", f"您的{rules.CATEGORY_LABELS[category]}帮扶申请已提交，服务站将尽快受理。")
    return case


def tell(case, title, body):
    """One care notification to the case's veteran (inbox now, WeChat after the commit)."""
    notify(
        "care",
        [case.veteran_id],
        title=title,
        body=body,
        link=LINK.format(id=case.id),
        values={"结果": rules.STATUS_LABELS[case.status]},
        sender_unit_id=case.station_id,
    )


def submit_case(*, account, category, description, requested_amount_fen=None):
    """The veteran's own request on the phone. Returns the AssistanceCase (submitted).

    :raises ValidationFailed: unknown category, empty or too long description, a bad amount.
    """
    description = _clean(category, description, requested_amount_fen)
    with transaction():
        veteran = db.session.get(Veteran, account.veteran_id)
        case = _new_case(
            veteran,
            category=category,
            description=description,
            requested_amount_fen=requested_amount_fen,
            channel="phone",
        )
        audit(account, "assistance.submitted", case, category=category)
    return case


def open_case(*, actor, veteran_id, category, description, requested_amount_fen=None, channel="counter"):
    """Staff open a case for a veteran in scope, at the counter or after a visit. :raises VeteranNotFound,
    PermissionDenied, ValidationFailed:"""
    require_permission(actor, "assistance.review")
    if channel not in ("counter", "visit"):
        raise ValidationFailed(details={"channel": "请选择受理方式"})
    description = _clean(category, description, requested_amount_fen)
    with transaction():
        veteran = get_scoped(Veteran, veteran_id, actor=actor, unit_column=Veteran.unit_id, not_found=VeteranNotFound)
        case = _new_case(
            veteran,
            category=category,
            description=description,
            requested_amount_fen=requested_amount_fen,
            channel=channel,
            staff=actor,
        )
        audit(actor, "assistance.opened", case, category=category, channel=channel)
    return case


def audit(actor, action, case, **details):
    path = db.session.scalar(select(OrgUnit.path).where(OrgUnit.id == case.station_id))
    audit_service.record(
        actor=actor, action=action, object_type="assistance_case", object_id=case.id, org_path=path, details=details
    )


# --- the phone's reads


def get_own_case(*, veteran_id, case_id):
    """The veteran's own case; another's is the same 404 as a missing one (and audited). :raises CaseNotFound:"""
    case = db.session.scalars(
        select(AssistanceCase).where(AssistanceCase.id == case_id, AssistanceCase.veteran_id == veteran_id)
    ).first()
    if case is None:
        if denials.exists(AssistanceCase, case_id):
            raise denials.mark(CaseNotFound(), object_type="assistance_case", object_id=case_id)
        raise CaseNotFound()
    return case


def list_own_cases(*, veteran_id, cursor=None, limit=20):
    """The veteran's cases, newest first, keyset by id: (rows, next_cursor)."""
    query = select(AssistanceCase).where(AssistanceCase.veteran_id == veteran_id)
    if cursor:
        query = query.where(AssistanceCase.id < cursor)
    rows = db.session.scalars(query.order_by(AssistanceCase.id.desc()).limit(limit + 1)).all()
    return rows[:limit], (rows[limit - 1].id if len(rows) > limit else None)


def timeline(case_id):
    return db.session.scalars(
        select(AssistanceEvent).where(AssistanceEvent.case_id == case_id).order_by(AssistanceEvent.id)
    ).all()


def attachments_of(case_id):
    return db.session.scalars(
        select(AssistanceAttachment).where(AssistanceAttachment.case_id == case_id).order_by(AssistanceAttachment.id)
    ).all()


# --- staff reads


def can_handle(actor):
    return any(actor.can(p) for p in HANDLERS)


def get_case(*, actor, case_id, permission="care.view", lock=False):
    """A case of a station in the actor's scope (no audit). :raises PermissionDenied, CaseNotFound:"""
    require_permission(actor, permission)
    return get_scoped(
        AssistanceCase, case_id, actor=actor, unit_column=AssistanceCase.station_id, not_found=CaseNotFound, lock=lock
    )


def view_case(*, actor, case_id):
    """(case, sealed fields opened or None) for the case page; the view is audited. Sealed fields are opened only
    for staff who handle cases (assistance.review or assistance.approve). :raises PermissionDenied, CaseNotFound:"""
    case = get_case(actor=actor, case_id=case_id)
    opened = None
    if can_handle(actor):
        opened = {field: unseal(case, field) for field in ("description", "notes", "follow_up")}
    with transaction():
        audit(actor, "assistance.viewed", case, details_shown=opened is not None)
    return case, opened


def list_cases(*, actor, status=None, station_id=None, before=None, limit=50):
    """Cases in the actor's scope, newest first, keyset by id: (rows, next_before)."""
    require_permission(actor, "care.view")
    query = scoped(select(AssistanceCase), actor, AssistanceCase.station_id)
    if status:
        query = query.where(AssistanceCase.status == status)
    if station_id:
        query = query.where(AssistanceCase.station_id == station_id)
    if before:
        query = query.where(AssistanceCase.id < before)
    rows = db.session.scalars(query.order_by(AssistanceCase.id.desc()).limit(limit + 1)).all()
    return rows[:limit], (rows[limit - 1].id if len(rows) > limit else None)


PENDING = ("submitted", "under_review", "recommended", "approved", "paid")  # a step is waiting


def list_pending(*, actor, after=None, limit=20):
    """Cases in scope waiting for a step (the handlers' to-do list), oldest first, keyset by id: (rows, next_after)."""
    require_handler(actor)
    query = scoped(select(AssistanceCase), actor, AssistanceCase.station_id).where(AssistanceCase.status.in_(PENDING))
    if after:
        query = query.where(AssistanceCase.id > after)
    rows = db.session.scalars(query.order_by(AssistanceCase.id).limit(limit + 1)).all()
    return rows[:limit], (rows[limit - 1].id if len(rows) > limit else None)


def names(rows):
    """{veteran_id: name}, {station_id: name}, {staff_id: display} for a page of cases and events."""
    veteran_ids = {r.veteran_id for r in rows if hasattr(r, "veteran_id")}
    station_ids = {r.station_id for r in rows if hasattr(r, "station_id")}
    veterans = dict(db.session.execute(select(Veteran.id, Veteran.name).where(Veteran.id.in_(veteran_ids))).all())
    stations = dict(db.session.execute(select(OrgUnit.id, OrgUnit.name).where(OrgUnit.id.in_(station_ids))).all())
    return veterans, stations


def staff_names(ids):
    ids = {i for i in ids if i}
    return dict(db.session.execute(select(Staff.id, Staff.full_name).where(Staff.id.in_(ids))).all())


def find_veterans(*, actor, query, limit=20):
    """Veterans in scope whose name starts with `query`, or whose ID number is `query`."""
    require_permission(actor, "assistance.review")
    query = (query or "").strip()[:64]
    if not query:
        return []
    if re.fullmatch(r"\d{17}[\dXx]", query):
        condition = Veteran.id_number_hmac == id_index(query.upper())
    else:
        condition = Veteran.name.startswith(query, autoescape=True)
    base = scoped(select(Veteran).where(condition, Veteran.status == "active"), actor, Veteran.unit_id)
    return db.session.scalars(base.order_by(Veteran.name, Veteran.id).limit(limit)).all()


def require_handler(actor):
    if not can_handle(actor):
        raise PermissionDenied(details={"permission": "assistance.review"})
