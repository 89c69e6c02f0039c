"""Commendations and awards (表彰奖励, Art. 11): the award, its level, date, the deed and the approving body, with an
optional basis (e.g. the party branch's yearly evaluation of Art. 6, referenced as text until that is built). Kept
at the veteran's station for scope; shown on the veteran's page. An award is a record: not edited, not deleted."""

from datetime import date

from sqlalchemy import select

from backend.db import transaction
from backend.extensions import db
from backend.honors import rules
from backend.honors.models import AWARD_LEVELS, Award
from backend.orgs.scope import get_scoped, require_permission, scoped
from backend.registration.windows import today_cst
from backend.veterans.models import Veteran
from backend.veterans.service import VeteranNotFound

FIELDS = ("title", "level", "awarded_on", "deed", "approving_body", "basis")


def create_award(*, actor, veteran_id, values, now=None):
    """An award of a veteran in scope. :raises PermissionDenied, VeteranNotFound, ValidationFailed:"""
    require_permission(actor, "honors.manage")
    with transaction():
        veteran = get_scoped(Veteran, veteran_id, actor=actor, unit_column=Veteran.unit_id, not_found=VeteranNotFound)
        errors = {}
        title = rules.text(values, errors, "title", "表彰奖励名称", 100, required=True)
        level = values.get("level")
        if level not in AWARD_LEVELS:
            errors["level"] = "请选择表彰级别"
        try:
            awarded_on = date.fromisoformat(str(values.get("awarded_on") or "").strip()[:10])
        except ValueError:
            awarded_on = None
        if awarded_on is None or not date(1950, 1, 1) <= awarded_on <= today_cst(now):
            errors["awarded_on"] = "请填写表彰日期（不晚于今天）"
        deed = rules.text(values, errors, "deed", "主要事迹", 4000, required=True)
        body = rules.text(values, errors, "approving_body", "批准机关", 100, required=True)
        basis = rules.text(values, errors, "basis", "依据", 200)
        rules.raise_errors(errors)
        award = Award(
            veteran_id=veteran.id,
            station_id=veteran.station_id,
            title=title,
            level=level,
            awarded_on=awarded_on,
            deed=deed,
            approving_body=body,
            basis=basis,
            created_by_id=actor.id,
        )
        db.session.add(award)
        db.session.flush()
        rules.audit(
            actor, "honors.award_create", "award", award, veteran.station_id, veteran_id=veteran.id, level=level
        )
    return award


def list_awards(*, actor, level=None, year=None, before=None, limit=rules.PAGE):
    """Awards in scope, newest first, keyset by id: ([(award, veteran name)], next_before)."""
    require_permission(actor, "honors.view")
    query = scoped(select(Award, Veteran.name), actor, Award.station_id).join(Veteran, Veteran.id == Award.veteran_id)
    if level in AWARD_LEVELS:
        query = query.where(Award.level == level)
    if year:
        query = query.where(Award.awarded_on >= date(year, 1, 1), Award.awarded_on <= date(year, 12, 31))
    if before:
        query = query.where(Award.id < before)
    rows = db.session.execute(query.order_by(Award.id.desc()).limit(limit + 1)).all()
    return [tuple(r) for r in rows[:limit]], (rows[limit - 1][0].id if len(rows) > limit else None)


def of_veteran(veteran_id):
    """The veteran's awards, latest first (the veteran's page)."""
    return db.session.scalars(
        select(Award).where(Award.veteran_id == veteran_id).order_by(Award.awarded_on.desc(), Award.id.desc())
    ).all()
