"""Ceremonies (Art. 11): celebrations staff organise (national or local) and the welcome ceremonies of reception
(written by backend/honors/welcome.py), scoped by the organiser unit; the invitation counts and the invitee list."""

from datetime import date, datetime

from sqlalchemy import case, func, select

from backend.db import transaction, utcnow
from backend.extensions import db
from backend.honors import rules
from backend.honors.models import CEREMONY_KINDS, CEREMONY_LEVELS, Ceremony, Invitation
from backend.honors.rules import CeremonyNotFound
from backend.orgs.models import OrgUnit
from backend.orgs.scope import get_scoped, get_unit_in_scope, require_permission, scoped
from backend.registration.windows import CST, today_cst
from backend.veterans.models import Veteran

FIELDS = ("unit_id", "level", "title", "held_at", "place", "attendees", "note", "rsvp_by")


def organiser_units(actor):
    """The units a ceremony may be organised by: the actor's own unit and every unit of the subtree, by path."""
    return db.session.scalars(
        scoped(select(OrgUnit).where(OrgUnit.level != "grid"), actor, OrgUnit.id).order_by(OrgUnit.path)
    ).all()


def _moment(raw):
    """A datetime-local value ("2026-08-01T09:30", China Standard Time) as an aware datetime, or None."""
    try:
        moment = datetime.fromisoformat(str(raw or "").strip()[:16])
    except ValueError:
        return None
    return moment.replace(tzinfo=CST) if moment.tzinfo is None else None


def _date(raw):
    try:
        return date.fromisoformat(str(raw or "").strip()[:10])
    except ValueError:
        return None


def create_celebration(*, actor, values, now=None):
    """A celebration organised by the actor's unit or a unit in scope: level, title, time (CST), place, attendees,
    note and the reply date (CST, not after the ceremony's day). :raises PermissionDenied, OrgUnitNotFound,
    ValidationFailed:"""
    require_permission(actor, "honors.manage")
    with transaction():
        unit = get_unit_in_scope(actor, values.get("unit_id") or actor.org_unit_id)
        errors = {}
        if unit.level == "grid":
            errors["unit_id"] = "请选择服务站或以上的组织单位"
        level = values.get("level")
        if level not in CEREMONY_LEVELS:
            errors["level"] = "请选择庆典级别"
        title = rules.text(values, errors, "title", "活动名称", 60, required=True)
        place = rules.text(values, errors, "place", "地点", 100, required=True)
        attendees = rules.text(values, errors, "attendees", "出席领导和嘉宾", 500)
        note = rules.text(values, errors, "note", "备注", 500)
        held_at = _moment(values.get("held_at"))
        if held_at is None or held_at.year < 2000 or held_at.year > 2100:
            errors["held_at"] = "请填写活动时间"
        elif held_at <= (now or utcnow()):
            errors["held_at"] = "活动时间须晚于现在"
        rsvp_by = None
        if str(values.get("rsvp_by") or "").strip():
            rsvp_by = _date(values.get("rsvp_by"))
            if rsvp_by is None or rsvp_by < today_cst(now):
                errors["rsvp_by"] = "回复截止日期不能早于今天"
            elif held_at is not None and rsvp_by > held_at.date():
                errors["rsvp_by"] = "回复截止日期不能晚于活动日期"
        rules.raise_errors(errors)
        ceremony = Ceremony(
            unit_id=unit.id,
            kind="celebration",
            level=level,
            title=title,
            held_at=held_at,
            place=place,
            attendees=attendees,
            note=note,
            rsvp_by=rsvp_by,
            created_by_id=actor.id,
        )
        db.session.add(ceremony)
        db.session.flush()
        rules.audit(actor, "honors.ceremony_create", "ceremony", ceremony, unit.id, title=title, level=level)
    return ceremony


def get_ceremony(*, actor, ceremony_id, permission="honors.view", lock=False):
    """The ceremony if its organiser unit lies in the actor's scope. :raises PermissionDenied, CeremonyNotFound:"""
    require_permission(actor, permission)
    return get_scoped(
        Ceremony, ceremony_id, actor=actor, unit_column=Ceremony.unit_id, not_found=CeremonyNotFound, lock=lock
    )


def list_ceremonies(*, actor, kind=None, before=None, limit=rules.PAGE):
    """Ceremonies of both kinds in scope, newest first, keyset by id: (rows, next_before)."""
    require_permission(actor, "honors.view")
    query = scoped(select(Ceremony), actor, Ceremony.unit_id)
    if kind in CEREMONY_KINDS:
        query = query.where(Ceremony.kind == kind)
    if before:
        query = query.where(Ceremony.id < before)
    return rules.page(db.session.scalars(query.order_by(Ceremony.id.desc()).limit(limit + 1)).all(), limit)


def counts(ceremony_ids):
    """{ceremony_id: {invited, accepted, declined, waiting, guests}} in one grouped query."""
    ids = list(ceremony_ids)
    out = {i: {"invited": 0, "accepted": 0, "declined": 0, "waiting": 0, "guests": 0} for i in ids}
    if not ids:
        return out
    accepted = Invitation.status == "accepted"
    rows = db.session.execute(
        select(
            Invitation.ceremony_id,
            func.count(),
            func.sum(case((accepted, 1), else_=0)),
            func.sum(case((Invitation.status == "declined", 1), else_=0)),
            func.sum(case((accepted, Invitation.guests), else_=0)),
        )
        .where(Invitation.ceremony_id.in_(ids))
        .group_by(Invitation.ceremony_id)
    ).all()
    for ceremony_id, invited, yes, no, guests in rows:
        out[ceremony_id] = {
            "invited": invited,
            "accepted": yes or 0,
            "declined": no or 0,
            "waiting": invited - (yes or 0) - (no or 0),
            "guests": guests or 0,
        }
    return out


def invitees(ceremony, *, actor, status=None, after=None, limit=rules.PAGE):
    """The ceremony's invitations of veterans in the actor's scope with the veteran's name, by invitation id, keyset:
    ([(invitation, name)], next)."""
    query = scoped(
        select(Invitation, Veteran.name)
        .join(Veteran, Veteran.id == Invitation.veteran_id)
        .where(Invitation.ceremony_id == ceremony.id),
        actor,
        Veteran.unit_id,
    )
    if status in rules.RSVP_LABELS:
        query = query.where(Invitation.status == status)
    if after:
        query = query.where(Invitation.id > after)
    rows = db.session.execute(query.order_by(Invitation.id).limit(limit + 1)).all()
    return [tuple(r) for r in rows[:limit]], (rows[limit - 1][0].id if len(rows) > limit else None)


def welcomed(ceremony_ids):
    """{ceremony_id: (onboarding case id, veteran name)} of welcome ceremonies linked from an onboarding case."""
    from backend.onboarding.models import OnboardingCase

    ids = list(ceremony_ids)
    if not ids:
        return {}
    rows = db.session.execute(
        select(OnboardingCase.ceremony_id, OnboardingCase.id, Veteran.name)
        .join(Veteran, Veteran.id == OnboardingCase.veteran_id)
        .where(OnboardingCase.ceremony_id.in_(ids))
    ).all()
    return {ceremony_id: (case_id, name) for ceremony_id, case_id, name in rows}


def upcoming(*, actor, limit=5, now=None):
    """The next celebrations in scope (not yet held), soonest first, with their counts: [(ceremony, counts)]."""
    rows = db.session.scalars(
        scoped(select(Ceremony), actor, Ceremony.unit_id)
        .where(Ceremony.kind == "celebration", Ceremony.held_at > (now or utcnow()))
        .order_by(Ceremony.held_at, Ceremony.id)
        .limit(limit)
    ).all()
    figures = counts(r.id for r in rows)
    return [(r, figures[r.id]) for r in rows]
