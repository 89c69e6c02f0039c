"""Retirement pay: labels, errors, month parsing, and the pay rules (停发、暂停发放 reasons as data, pension.rules).

The four rules are seeded by migration 0026 (death, reenlisted, public_post, registration_overdue); administrators
enable or disable them and edit their label, the message the veteran is told, and the parameters (grace_days).
"""

import re
from datetime import date

from sqlalchemy import select

from backend.audit import service as audit_service
from backend.db import transaction
from backend.errors import NotFound, RuleViolation, ValidationFailed
from backend.extensions import db
from backend.orgs.scope import require_permission
from backend.pension.models import PayRule

COMPONENT_LABELS = {"base": "基本退役金", "allowance": "补贴", "adjustment": "调整增加额"}
FUNDING_LABELS = {"central": "中央资金", "local": "地方资金"}
STATE_LABELS = {"pending": "未起发", "active": "正常发放", "suspended": "暂停发放", "stopped": "停止发放"}
ACTION_LABELS = {"start": "起发", "suspend": "暂停发放", "resume": "恢复发放", "stop": "停止发放"}
RULE_ACTION_LABELS = {"suspend": "暂停发放", "stop": "停止发放"}
LINE_STATUS_LABELS = {"pending": "待银行回盘", "paid": "已到账", "failed": "发放失败", "suspended": "暂停发放"}
MANUAL = "manual"
MANUAL_LABEL = "其他原因（手工）"
MAX_GRACE_DAYS = 366
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


class BadMonth(ValidationFailed):
    code = "pension.bad_month"
    message = "生效月份不正确：请按“年-月”选择，且不得早于起发月份"


class BadAccount(ValidationFailed):
    code = "pension.bad_account"
    message = "收款账户信息不完整或格式不正确"


class BadReason(ValidationFailed):
    code = "pension.bad_reason"
    message = "请选择已启用的停发原因；选择“其他原因”时须填写说明"


class InvalidState(RuleViolation):
    code = "pension.invalid_state"
    message = "当前发放状态不允许此操作"


class NotStarted(RuleViolation):
    code = "pension.not_started"
    message = "该退役军人尚未起发退役金，请先登记起发日期"


class ProfileChanged(RuleViolation):
    code = "pension.profile_changed"
    message = "该退役军人的退役金信息刚被他人修改，请刷新页面核对后重试"


class RuleNotFound(NotFound):
    code = "pension.rule_not_found"
    message = "未找到该停发规则"


def parse_month(text):
    """'2026-04' -> date(2026, 4, 1). :raises BadMonth:"""
    match = _MONTH.match(str(text or "").strip())
    if not match or not 2000 <= int(match.group(1)) <= 2100 or not 1 <= int(match.group(2)) <= 12:
        raise BadMonth(details={"month": BadMonth.message})
    return date(int(match.group(1)), int(match.group(2)), 1)


def parse_day(text, field="effective_on"):
    """'2026-04-15' -> date. :raises ValidationFailed:"""
    try:
        day = date.fromisoformat(str(text or "").strip()[:10])
    except ValueError:
        day = None
    if day is None or not 2000 <= day.year <= 2100:
        raise ValidationFailed("请填写正确的日期（年-月-日）", details={field: "请填写正确的日期（年-月-日）"})
    return day


def all_rules():
    return db.session.scalars(select(PayRule).order_by(PayRule.action.desc(), PayRule.code)).all()


def enabled_rules(action=None):
    """Enabled rules a person may choose (automatic ones are applied by the job, so are not offered)."""
    query = select(PayRule).where(PayRule.enabled.is_(True), PayRule.automatic.is_(False)).order_by(PayRule.code)
    if action:
        query = query.where(PayRule.action == action)
    return db.session.scalars(query).all()


def rule_labels():
    """{code: label} of every rule, plus manual."""
    return {**{r.code: r.label for r in all_rules()}, MANUAL: MANUAL_LABEL}


def get_rule(code):
    rule = db.session.get(PayRule, str(code or "")[:30]) if code else None
    if rule is None:
        raise RuleNotFound()
    return rule


def choose_reason(action, reason, note):
    """Check a suspension's or stop's reason: an enabled, non-automatic rule of that action, or manual with a note.
    Returns (reason, note, rule or None). :raises BadReason:"""
    note = (note or "").strip()[:300] or None
    if reason == MANUAL:
        if not note:
            raise BadReason(details={"note": "选择“其他原因”时须填写说明"})
        return MANUAL, note, None
    rule = db.session.get(PayRule, str(reason or "")[:30]) if reason else None
    if rule is None or not rule.enabled or rule.automatic or rule.action != action:
        raise BadReason(details={"reason": BadReason.message})
    return rule.code, note, rule


def veteran_message(profile):
    """What the veteran is told about a suspension or stop: the rule's message, else the staff note."""
    if profile is None or profile.state not in ("suspended", "stopped"):
        return None
    rule = db.session.get(PayRule, profile.state_reason) if profile.state_reason not in (None, MANUAL) else None
    label = rule.label if rule else MANUAL_LABEL if profile.state_reason == MANUAL else None
    return {
        "code": profile.state_reason,
        "label": label,
        "message": (rule.message if rule else None) or profile.state_note,
    }


def update_rule(*, actor, code, enabled, label, message, grace_days=None):
    """Edit a rule (pension.rules): enabled, label, message and, for registration_overdue, grace_days.

    :raises PermissionDenied, RuleNotFound, ValidationFailed
    """
    require_permission(actor, "pension.rules")
    label, message = (label or "").strip(), (message or "").strip()
    errors = {}
    if not label or len(label) > 60:
        errors["label"] = "名称不能为空，且不超过60个字"
    if len(message) > 300:
        errors["message"] = "告知内容不超过300个字"
    grace = None
    if grace_days is not None:
        text = str(grace_days).strip()
        if not (text.isascii() and text.isdigit() and int(text) <= MAX_GRACE_DAYS):
            errors["grace_days"] = f"宽限天数应为 0 至 {MAX_GRACE_DAYS} 的整数"
        else:
            grace = int(text)
    if errors:
        raise ValidationFailed("；".join(errors.values()), details=errors)
    with transaction():
        rule = get_rule(code)
        before = {"enabled": rule.enabled, "label": rule.label, "params": dict(rule.params or {})}
        rule.enabled, rule.label, rule.message, rule.updated_by_id = bool(enabled), label, message or None, actor.id
        if grace is not None and "grace_days" in (rule.params or {}):
            rule.params = {**rule.params, "grace_days": grace}
        audit_service.record(
            actor=actor,
            action="pension.rule_updated",
            object_type="pay_rule",
            object_id=rule.code,
            details={"from": before, "to": {"enabled": rule.enabled, "label": rule.label, "params": rule.params}},
        )
    return rule
