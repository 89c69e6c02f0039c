"""In-person education sessions (集中学习) and their attendance, recorded by staff (education.attendance).

A session belongs to a unit in the actor's subtree; only veterans of that unit's subtree can be recorded for it
(outside: not found). Recording a veteran again updates the row (attended yes/no, note).
"""

from sqlalchemy import select

from backend.db import transaction
from backend.education.campaigns import KIND_LABELS, get_campaign, parse_date
from backend.education.models import KINDS, EducationAttendance, EducationSession
from backend.errors import NotFound, ValidationFailed
from backend.extensions import db
from backend.orgs.models import OrgUnit
from backend.orgs.scope import get_scoped, get_unit_in_scope, require_permission, scoped
from backend.veterans.models import Veteran
from backend.veterans.queries import path_range
from backend.veterans.service import VeteranNotFound

__all__ = ["KIND_LABELS", "create_session", "get_session", "list_sessions", "record_attendance", "attendance_of"]


class SessionNotFound(NotFound):
    code = "education.session_not_found"
    message = "未找到该集中学习"


def _audit(actor, action, session, **details):
    from backend.audit import service as audit_service

    audit_service.record(
        actor=actor,
        action=action,
        object_type="education_session",
        object_id=session.id,
        org_path=db.session.scalar(select(OrgUnit.path).where(OrgUnit.id == session.unit_id)),
        details=details,
    )


def create_session(*, actor, unit_id, kind, title, held_on, place, campaign_id=None):
    """:raises PermissionDenied, ValidationFailed, OrgUnitNotFound, CampaignNotFound:"""
    require_permission(actor, "education.attendance")
    unit = get_unit_in_scope(actor, unit_id or actor.org_unit_id)
    title, place = " ".join((title or "").split()), " ".join((place or "").split())
    errors = {}
    if kind not in KINDS:
        errors["kind"] = "请选择类别"
    if not title or len(title) > 60:
        errors["title"] = "请填写主题（不超过 60 字）"
    if not place or len(place) > 100:
        errors["place"] = "请填写地点（不超过 100 字）"
    if errors:
        raise ValidationFailed(details=errors)
    held = parse_date(held_on, "held_on")
    if campaign_id:
        campaign = get_campaign(actor=actor, campaign_id=campaign_id)  # in scope, or not found
        campaign_path = db.session.scalar(select(OrgUnit.path).where(OrgUnit.id == campaign.unit_id))
        if not unit.path.startswith(campaign_path):  # a reminder of the session's unit or a unit above it
            raise ValidationFailed(details={"campaign": "请选择本单位或上级单位的教育提醒"})
    with transaction():
        session = EducationSession(
            unit_id=unit.id,
            kind=kind,
            title=title,
            held_on=held,
            place=place,
            campaign_id=campaign_id or None,
            created_by_id=actor.id,
        )
        db.session.add(session)
        db.session.flush()
        _audit(actor, "education.session_created", session, kind=kind, held_on=held.isoformat())
    return session


def get_session(*, actor, session_id, permission="education.view"):
    require_permission(actor, permission)
    return get_scoped(
        EducationSession, session_id, actor=actor, unit_column=EducationSession.unit_id, not_found=SessionNotFound
    )


def list_sessions(*, actor, after=None, limit=30):
    """Sessions of the units in scope, newest first (keyset by id). :returns: (rows, next_after)"""
    require_permission(actor, "education.view")
    query = scoped(select(EducationSession), actor, EducationSession.unit_id)
    if after:
        query = query.where(EducationSession.id < after)
    rows = db.session.scalars(query.order_by(EducationSession.id.desc()).limit(limit + 1)).all()
    return rows[:limit], (rows[limit - 1].id if len(rows) > limit else None)


def _session_path(session):
    return db.session.scalar(select(OrgUnit.path).where(OrgUnit.id == session.unit_id))


def record_attendance(*, actor, session_id, veteran_id, attended=True, note=None):
    """Record (or correct) one veteran's attendance. :raises …, SessionNotFound, VeteranNotFound:"""
    require_permission(actor, "education.attendance")
    note = " ".join((note or "").split())[:200] or None
    with transaction():
        session = get_session(actor=actor, session_id=session_id, permission="education.attendance")
        veteran = db.session.scalars(
            select(Veteran).where(Veteran.id == (veteran_id or 0), *path_range(_session_path(session)))
        ).first()
        if veteran is None:
            raise VeteranNotFound()
        row = db.session.scalars(
            select(EducationAttendance).where(
                EducationAttendance.session_id == session.id, EducationAttendance.veteran_id == veteran.id
            )
        ).first()
        if row is None:
            row = EducationAttendance(session_id=session.id, veteran_id=veteran.id, recorded_by_id=actor.id)
            db.session.add(row)
        row.attended, row.note, row.recorded_by_id = bool(attended), note, actor.id
        db.session.flush()
        _audit(actor, "education.attendance_recorded", session, veteran_id=veteran.id, attended=bool(attended))
    return row


def attendance_of(session, limit=500):
    """[(EducationAttendance, Veteran)] of a session, by name."""
    return db.session.execute(
        select(EducationAttendance, Veteran)
        .join(Veteran, Veteran.id == EducationAttendance.veteran_id)
        .where(EducationAttendance.session_id == session.id)
        .order_by(Veteran.name, Veteran.id)
        .limit(limit)
    ).all()


def search_veterans(*, actor, session, name, limit=20):
    """Veterans of the session's unit subtree whose name starts with `name` (for picking)."""
    name = (name or "").strip()[:64]
    if not name:
        return []
    return db.session.scalars(
        select(Veteran)
        .where(Veteran.name.startswith(name, autoescape=True), *path_range(_session_path(session)))
        .order_by(Veteran.name, Veteran.id)
        .limit(limit)
    ).all()
