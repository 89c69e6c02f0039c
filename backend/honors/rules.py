"""Honors and ceremonies (Art. 11): labels, errors, the reply deadline, and the helpers the services share (audit
with the organiser's path, finding veterans in scope, names for a page)."""

import re
from datetime import datetime, time, timedelta

from sqlalchemy import select

from backend.audit import service as audit_service
from backend.db import utcnow
from backend.errors import NotFound, RuleViolation, ValidationFailed
from backend.extensions import db
from backend.orgs.models import OrgUnit
from backend.orgs.scope import require_permission, scoped
from backend.registration.windows import CST
from backend.staff.models import Staff
from backend.veterans.models import Veteran
from backend.veterans.queries import path_range
from backend.veterans.service import id_index

KIND_LABELS = {"welcome": "欢迎仪式", "celebration": "重大庆典"}
LEVEL_LABELS = {"national": "国家级", "local": "地方"}
RSVP_LABELS = {"invited": "待回复", "accepted": "参加", "declined": "不参加"}
AWARD_LEVEL_LABELS = {"national": "国家级", "provincial": "省级", "city": "市级", "county": "县级", "other": "其他"}
CHRONICLE_LABELS = {"candidate": "待审核", "accepted": "已编入", "rejected": "未采纳"}
MAX_GUESTS = 3
PAGE = 50
INVITATIONS_PAGE = "pages/invitations/index"  # the mini program page an invitation message opens


class HonorsNotFound(NotFound):
    code = "honors.not_found"
    message = "未找到相关记录"


class CeremonyNotFound(HonorsNotFound):
    message = "未找到该仪式活动"


class InvitationNotFound(HonorsNotFound):
    message = "未找到该邀请"


class ChronicleNotFound(HonorsNotFound):
    message = "未找到该地方志推荐"


class RsvpClosed(RuleViolation):
    code = "honors.rsvp_closed"
    message = "已过回复截止时间，如需变更请与服务站联系"


class ChronicleStateInvalid(RuleViolation):
    code = "honors.invalid_state"
    message = "该推荐已审核，不能再次审核"


class ReviewerIsProposer(RuleViolation):
    code = "honors.reviewer_is_proposer"
    message = "推荐人不能审核自己的推荐，请由另一位审核人员审核"


class ChronicleExists(RuleViolation):
    code = "honors.chronicle_exists"
    message = "该退役军人已被推荐或已编入地方志"


def cst(moment):
    return moment.astimezone(CST) if moment else None


def reply_closes_at(ceremony):
    """When replies stop: the end of the reply date (CST), but never after the ceremony starts."""
    closes = ceremony.held_at
    if ceremony.rsvp_by is not None:
        end_of_day = datetime.combine(ceremony.rsvp_by + timedelta(days=1), time(0), tzinfo=CST)
        closes = min(closes, end_of_day)
    return closes


def reply_open(ceremony, now=None):
    return (now or utcnow()) < reply_closes_at(ceremony)


def text(values, errors, key, label, limit, required=False):
    """A trimmed text field (None when empty), or an error on `key`."""
    value = str(values.get(key) or "").strip()
    if required and not value:
        errors[key] = f"请填写{label}"
    elif len(value) > limit:
        errors[key] = f"{label}不能超过{limit}个字"
    return value or None


def raise_errors(errors):
    if errors:
        raise ValidationFailed(details=errors)


def unit_path(unit_id):
    return db.session.scalar(select(OrgUnit.path).where(OrgUnit.id == unit_id))


def audit(actor, action, object_type, row, org_unit_id, **details):
    audit_service.record(
        actor=actor,
        action=action,
        object_type=object_type,
        object_id=row.id,
        org_path=unit_path(org_unit_id),
        details=details,
    )


def find_veterans(*, actor, query, under=None, limit=20):
    """Active veterans in scope (and under the unit path `under`, if given) whose name starts with `query`, or whose
    ID number is `query`."""
    require_permission(actor, "honors.manage")
    query = (query or "").strip()[:64]
    if not query:
        return []
    if re.fullmatch(r"\d{17}[\dXx]", query):
        condition = Veteran.id_number_hmac == id_index(query.upper())
    else:
        condition = Veteran.name.startswith(query, autoescape=True)
    base = scoped(select(Veteran).where(condition, Veteran.status == "active"), actor, Veteran.unit_id)
    if under:
        base = base.where(*path_range(under))
    return db.session.scalars(base.order_by(Veteran.name, Veteran.id).limit(limit)).all()


def veteran_names(ids):
    ids = {i for i in ids if i}
    return dict(db.session.execute(select(Veteran.id, Veteran.name).where(Veteran.id.in_(ids))).all()) if ids else {}


def unit_names(ids):
    ids = {i for i in ids if i}
    return dict(db.session.execute(select(OrgUnit.id, OrgUnit.name).where(OrgUnit.id.in_(ids))).all()) if ids else {}


def staff_names(ids):
    ids = {i for i in ids if i}
    return dict(db.session.execute(select(Staff.id, Staff.full_name).where(Staff.id.in_(ids))).all()) if ids else {}


def page(rows, limit):
    """(rows[:limit], the last row's id when there is more)."""
    return rows[:limit], (rows[limit - 1].id if len(rows) > limit else None)
