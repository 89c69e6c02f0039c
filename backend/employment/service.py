"""Employment and entrepreneurship (Art. 13, 18): status and history with the employer's liaison, support given, and
civic roles with their activities. Scope follows the veteran (their unit in the actor's subtree); out of scope is not
found. The liaison's phone is sealed (backend/pii, context "employment.liaison_phone") and shown masked.
"""

import re
from datetime import date
from decimal import Decimal, InvalidOperation

from sqlalchemy import select, update

from backend import pii
from backend.audit import service as audit_service
from backend.db import transaction
from backend.employment.models import (
    ROLE_AREAS,
    STATUSES,
    SUPPORT_KINDS,
    SUPPORT_OUTCOMES,
    CivicActivity,
    CivicRole,
    EmploymentRecord,
    EmploymentSupport,
)
from backend.errors import NotFound, ValidationFailed
from backend.extensions import db
from backend.orgs.models import OrgUnit
from backend.orgs.scope import get_scoped, require_permission
from backend.registration.windows import today_cst
from backend.veterans.identity import InvalidMobile, normalize_mobile
from backend.veterans.models import Veteran
from backend.veterans.service import VeteranNotFound

LIAISON_CONTEXT = "employment.liaison_phone"
STATUS_LABELS = {
    "employed": "在职",
    "self_employed": "自主创业/灵活就业",
    "unemployed": "待业",
    "retired": "退休",
    "other": "其他",
}
SUPPORT_LABELS = {
    "referral": "岗位推荐",
    "training": "技能培训",
    "loan": "创业贷款",
    "subsidy": "创业补贴",
    "incubation": "创业孵化",
    "other": "其他扶持",
}
OUTCOME_LABELS = {"pending": "跟进中", "succeeded": "成功", "failed": "未成功", "withdrawn": "本人放弃"}
AREA_LABELS = {"grassroots": "基层治理", "border": "稳边固边", "defence_education": "国防教育", "volunteer": "志愿服务"}
MONEY_KINDS = ("loan", "subsidy")
_LANDLINE = re.compile(r"^0\d{2,3}-?\d{7,8}$")


class SupportNotFound(NotFound):
    code = "employment.support_not_found"
    message = "未找到该扶持记录"


class RoleNotFound(NotFound):
    code = "employment.role_not_found"
    message = "未找到该社会角色"


def _text(value, limit, field, *, required=False):
    value = " ".join(str(value or "").split())
    if required and not value:
        raise ValidationFailed(details={field: "请填写此项"})
    if len(value) > limit:
        raise ValidationFailed(details={field: f"不超过 {limit} 字"})
    return value or None


def parse_date(value, field, *, required=True):
    if isinstance(value, date):
        return value
    value = (value or "").strip()[:10]
    if not value:
        if required:
            raise ValidationFailed(details={field: "请填写日期"})
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValidationFailed(details={field: "日期格式应为 YYYY-MM-DD"}) from None


def parse_fen(value, field="amount"):
    """Yuan as typed ("12000", "12,000.50") -> fen, exactly (Decimal, at most 2 decimals); None when empty."""
    value = str(value or "").replace(",", "").replace("，", "").strip()
    if not value:
        return None
    try:
        yuan = Decimal(value)
    except InvalidOperation:
        raise ValidationFailed(details={field: "金额格式不正确"}) from None
    if not yuan.is_finite() or yuan < 0 or yuan > Decimal("100000000") or yuan.as_tuple().exponent < -2:
        raise ValidationFailed(details={field: "金额应为不超过 1 亿元、最多两位小数的非负数"})
    return int(yuan * 100)


def parse_tenths(value, field="hours"):
    """Hours with one decimal ("1.5") -> tenths (15); None when empty."""
    value = str(value or "").strip()
    if not value:
        return None
    try:
        hours = Decimal(value)
    except InvalidOperation:
        raise ValidationFailed(details={field: "时长格式不正确"}) from None
    if not hours.is_finite() or hours <= 0 or hours > 240 or hours.as_tuple().exponent < -1:
        raise ValidationFailed(details={field: "时长应为 0.1 至 240 小时，最多一位小数"})
    return int(hours * 10)


def clean_phone(raw):
    """A mobile (backend.veterans.identity) or a landline 0xx(x)-xxxxxxx(x); None when empty."""
    raw = re.sub(r"\s", "", str(raw or ""))
    if not raw:
        return None
    if _LANDLINE.match(raw):
        return raw
    try:
        return normalize_mobile(raw)
    except InvalidMobile:
        raise ValidationFailed(details={"liaison_phone": "请填写11位手机号码或带区号的固定电话"}) from None


def liaison_phone(record):
    return pii.decrypt(record.liaison_phone_enc, context=LIAISON_CONTEXT) if record.liaison_phone_enc else None


def masked_liaison_phone(record):
    phone = liaison_phone(record)
    if not phone:
        return None
    return pii.mask_phone(phone) if len(phone) == 11 and phone.isdigit() else phone[:-4] + "****"


def _audit(actor, action, veteran, object_type, object_id, **details):
    audit_service.record(
        actor=actor,
        action=action,
        object_type=object_type,
        object_id=object_id,
        org_path=db.session.scalar(select(OrgUnit.path).where(OrgUnit.id == veteran.unit_id)),
        details={"veteran_id": veteran.id, **details},
    )


def get_veteran(*, actor, veteran_id, permission="employment.view", lock=False):
    require_permission(actor, permission)
    return get_scoped(
        Veteran, veteran_id, actor=actor, unit_column=Veteran.unit_id, not_found=VeteranNotFound, lock=lock
    )


# --- status and history


def current_record(veteran_id):
    return db.session.scalars(
        select(EmploymentRecord)
        .where(EmploymentRecord.veteran_id == veteran_id, EmploymentRecord.until.is_(None))
        .order_by(EmploymentRecord.id.desc())
        .limit(1)
    ).first()


def history(veteran_id, limit=50):
    return db.session.scalars(
        select(EmploymentRecord)
        .where(EmploymentRecord.veteran_id == veteran_id)
        .order_by(EmploymentRecord.id.desc())
        .limit(limit)
    ).all()


def append_record(veteran, *, status, employer=None, position=None, since=None, wishes=None, liaison_name=None,
                  liaison_phone=None, source="staff", recorded_by_id=None):  # fmt: skip
    """Close the current record (until = the new since, or today) and append the new one (caller's transaction)."""
    until = since or today_cst()
    db.session.execute(
        update(EmploymentRecord)
        .where(EmploymentRecord.veteran_id == veteran.id, EmploymentRecord.until.is_(None))
        .values(until=until)
        .execution_options(synchronize_session=False)
    )
    record = EmploymentRecord(
        veteran_id=veteran.id,
        station_id=veteran.station_id,
        status=status,
        employer=employer,
        position=position,
        since=since,
        wishes=wishes,
        liaison_name=liaison_name,
        liaison_phone_enc=pii.encrypt(liaison_phone, context=LIAISON_CONTEXT) if liaison_phone else None,
        source=source,
        recorded_by_id=recorded_by_id,
    )
    db.session.add(record)
    db.session.flush()
    return record


def set_status(*, actor, veteran_id, status, employer=None, position=None, since=None, wishes=None,
               liaison_name=None, liaison_phone=None):  # fmt: skip
    """The veteran's status now; the previous current record is closed. :raises …, ValidationFailed:"""
    require_permission(actor, "employment.manage")
    if status not in STATUSES:
        raise ValidationFailed(details={"status": "请选择就业状况"})
    working = status in ("employed", "self_employed")
    fields = dict(
        status=status,
        employer=_text(employer, 100, "employer", required=working),
        position=_text(position, 60, "position") if status == "employed" else None,
        since=parse_date(since, "since", required=status in ("employed", "self_employed", "unemployed")),
        wishes=_text(wishes, 300, "wishes") if status == "unemployed" else None,
        liaison_name=_text(liaison_name, 64, "liaison_name") if working else None,
        liaison_phone=clean_phone(liaison_phone) if working else None,
    )
    if fields["since"] and fields["since"] > today_cst():
        raise ValidationFailed(details={"since": "日期不能晚于今天"})
    with transaction():
        veteran = get_veteran(actor=actor, veteran_id=veteran_id, permission="employment.manage")
        record = append_record(veteran, source="staff", recorded_by_id=actor.id, **fields)
        _audit(actor, "employment.status_set", veteran, "employment_record", record.id, status=status)
    return record


# --- support given


def record_support(*, actor, veteran_id, kind, given_on, detail, amount=None):
    require_permission(actor, "employment.manage")
    if kind not in SUPPORT_KINDS:
        raise ValidationFailed(details={"kind": "请选择扶持类别"})
    given = parse_date(given_on, "given_on")
    detail = _text(detail, 300, "detail", required=True)
    amount_fen = parse_fen(amount) if kind in MONEY_KINDS else None
    with transaction():
        veteran = get_veteran(actor=actor, veteran_id=veteran_id, permission="employment.manage")
        support = EmploymentSupport(
            veteran_id=veteran.id,
            station_id=veteran.station_id,
            kind=kind,
            given_on=given,
            detail=detail,
            amount_fen=amount_fen,
            outcome="pending",
            recorded_by_id=actor.id,
        )
        db.session.add(support)
        db.session.flush()
        _audit(actor, "employment.support_recorded", veteran, "employment_support", support.id, kind=kind)
    return support


def _scoped_child(actor, model, object_id, not_found, permission):
    """A row of `model` whose veteran lies in the actor's subtree (locked)."""
    require_permission(actor, permission)
    row = db.session.get(model, object_id or 0, with_for_update=True)
    if row is None:
        raise not_found()
    try:
        veteran = get_veteran(actor=actor, veteran_id=row.veteran_id, permission=permission)
    except VeteranNotFound:
        raise not_found() from None
    return row, veteran


def owner_of(*, actor, model, object_id):
    """The veteran id of a support or civic role in the actor's subtree (no lock): where a failed form goes back to.
    :raises SupportNotFound, RoleNotFound:"""
    not_found = SupportNotFound if model is EmploymentSupport else RoleNotFound
    veteran_id = db.session.scalar(select(model.veteran_id).where(model.id == (object_id or 0)))
    if veteran_id is None:
        raise not_found()
    try:
        return get_veteran(actor=actor, veteran_id=veteran_id).id
    except VeteranNotFound:
        raise not_found() from None


def set_outcome(*, actor, support_id, outcome, note=None):
    if outcome not in SUPPORT_OUTCOMES:
        raise ValidationFailed(details={"outcome": "请选择结果"})
    note = _text(note, 300, "outcome_note")
    with transaction():
        support, veteran = _scoped_child(actor, EmploymentSupport, support_id, SupportNotFound, "employment.manage")
        support.outcome, support.outcome_note = outcome, note
        _audit(actor, "employment.support_outcome", veteran, "employment_support", support.id, outcome=outcome)
    return support


def supports_of(veteran_id, limit=50):
    return db.session.scalars(
        select(EmploymentSupport)
        .where(EmploymentSupport.veteran_id == veteran_id)
        .order_by(EmploymentSupport.given_on.desc(), EmploymentSupport.id.desc())
        .limit(limit)
    ).all()


# --- civic roles


def record_role(*, actor, veteran_id, area, title, organisation=None, since=None, until=None):
    require_permission(actor, "employment.manage")
    if area not in ROLE_AREAS:
        raise ValidationFailed(details={"area": "请选择领域"})
    title = _text(title, 60, "title", required=True)
    organisation = _text(organisation, 100, "organisation")
    since, until = parse_date(since, "since", required=False), parse_date(until, "until", required=False)
    if since and until and until < since:
        raise ValidationFailed(details={"until": "结束日期不能早于开始日期"})
    with transaction():
        veteran = get_veteran(actor=actor, veteran_id=veteran_id, permission="employment.manage")
        role = CivicRole(
            veteran_id=veteran.id,
            station_id=veteran.station_id,
            area=area,
            title=title,
            organisation=organisation,
            since=since,
            until=until,
            recorded_by_id=actor.id,
        )
        db.session.add(role)
        db.session.flush()
        _audit(actor, "employment.role_recorded", veteran, "civic_role", role.id, area=area)
    return role


def record_activity(*, actor, role_id, held_on, title, hours=None, note=None):
    held = parse_date(held_on, "held_on")
    title = _text(title, 100, "title", required=True)
    tenths = parse_tenths(hours)
    note = _text(note, 500, "note")
    with transaction():
        role, veteran = _scoped_child(actor, CivicRole, role_id, RoleNotFound, "employment.manage")
        activity = CivicActivity(
            role_id=role.id, held_on=held, title=title, hours_tenths=tenths, note=note, recorded_by_id=actor.id
        )
        db.session.add(activity)
        db.session.flush()
        _audit(actor, "employment.activity_recorded", veteran, "civic_role", role.id, activity_id=activity.id)
    return activity


def roles_of(veteran_id, limit=50):
    """[(CivicRole, [CivicActivity])]: two statements."""
    roles = db.session.scalars(
        select(CivicRole).where(CivicRole.veteran_id == veteran_id).order_by(CivicRole.id.desc()).limit(limit)
    ).all()
    activities = {}
    if roles:
        for activity in db.session.scalars(
            select(CivicActivity)
            .where(CivicActivity.role_id.in_([r.id for r in roles]))
            .order_by(CivicActivity.held_on.desc(), CivicActivity.id.desc())
        ):
            activities.setdefault(activity.role_id, []).append(activity)
    return [(role, activities.get(role.id, [])) for role in roles]
