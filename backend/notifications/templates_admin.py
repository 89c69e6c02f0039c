"""Message templates for the system administrator: list, history, preview and new versions.

A template key (kinds.TEMPLATE_KEYS) maps a family of message kinds to one WeChat subscribe template. Its settings are
versioned: an edit writes a NEW version and makes it current; a version is never changed once written, so a sent
notification (notification.template_version_id) always shows the card it went out with (`version_for`).
Templates are system-wide: anyone with notifications.templates may look; only an administrator of a root unit (the
province) may save a version, since a county administrator's change would reach every other county too.
"""

import re
from dataclasses import dataclass, field

from sqlalchemy import func, select

from backend.audit import service as audit_service
from backend.db import transaction
from backend.errors import NotFound, PermissionDenied, ValidationFailed
from backend.extensions import db
from backend.notifications import render
from backend.notifications.kinds import KIND_LABELS, KIND_TEMPLATE, TEMPLATE_KEYS
from backend.notifications.models import MessageTemplate, MessageTemplateVersion
from backend.orgs.scope import require_permission

PERMISSION = "notifications.templates"
MAX_FIELDS = 5
WECHAT_TEMPLATE_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
PAGE = re.compile(r"^pages(/[A-Za-z0-9_-]{1,40}){1,5}(\?[A-Za-z0-9_=&%.-]{0,100})?$")
BOOKING_VARIABLES = ("标题", "预约时间", "服务站", "原因", "日期")
# The variables a field pattern of each template key may use (what the events of those kinds supply).
VARIABLES = {
    "care": ("标题", "单位", "日期", "姓名", "服务站"),
    "registration_result": ("标题", "结果", "日期", "姓名"),
    "registration_reminder": ("标题", "结果", "截止日期", "日期"),
    "talk": ("标题", "结果", "约谈日期", "日期"),
    "travel_overdue": ("标题", "日期"),
    "booking_reminder": BOOKING_VARIABLES,
    "booking_cancelled": BOOKING_VARIABLES,
}
# 姓名 is personal data: it may go to WeChat only in a `name` field (≤ 10 characters, WeChat masks nothing else).
NAME_VARIABLE = "姓名"
# Sample values for the preview: long enough to show WeChat's truncation.
SAMPLE_VALUES = {
    "标题": "2026年度退役军人关爱慰问活动通知（重阳节专场）",
    "单位": "江宁省某某市某某区退役军人服务中心",
    "日期": "2026年10月29日",
    "姓名": "欧阳张三丰李四王五赵六",
    "服务站": "某某街道退役军人服务站",
    "结果": "已退回补正",
    "截止日期": "2026年03月31日",
    "约谈日期": "2026年04月08日",
    "预约时间": "2026年11月03日 09:30",
    "原因": "服务站临时安排集中活动，请改约其他时间",
}
SAMPLE_BODY = {
    "care": "{姓名}您好：{单位}向您致以节日的问候，祝您身体健康、阖家幸福！",
    "registration_result": "您提交的年度确认信息{结果}，请在小程序中查看详情。",
    "registration_reminder": "年度确认办理将于{截止日期}截止，请及时通过小程序办理。",
    "talk": "服务站将于{约谈日期}与您约谈，请按时参加。",
    "travel_overdue": "您报备的出行已超过预计返回日期，请及时报告返回情况。",
    "booking_reminder": "您预约的服务将于{预约时间}在{服务站}办理，请准时前往。",
    "booking_cancelled": "您预约的{预约时间}的服务已取消，原因：{原因}。",
}


class TemplateNotFound(NotFound):
    code = "notifications.template_not_found"
    message = "未找到该消息模板"


@dataclass
class TemplateRow:
    key: str
    name: str
    template: MessageTemplate
    current: MessageTemplateVersion | None
    kinds: list = field(default_factory=list)  # [(kind, label)] the message kinds it serves
    variables: tuple = ()


@dataclass
class Preview:
    card: dict  # render.card(): {template_id, page, data}
    labels: dict  # field key -> label
    inbox_title: str
    inbox_body: str


def kinds_of(key):
    """[(kind, label)] of the message kinds template key `key` serves."""
    return [(kind, KIND_LABELS.get(kind, kind)) for kind, tkey in KIND_TEMPLATE.items() if tkey == key]


def _row(template, current):
    return TemplateRow(
        template.key,
        TEMPLATE_KEYS.get(template.key, template.name),
        template,
        current,
        kinds_of(template.key),
        VARIABLES.get(template.key, ()),
    )


def list_templates(*, actor):
    """Every template key with its current version, in TEMPLATE_KEYS order. :raises PermissionDenied:"""
    require_permission(actor, PERMISSION)
    rows = db.session.execute(
        select(MessageTemplate, MessageTemplateVersion).outerjoin(
            MessageTemplateVersion, MessageTemplate.current_version_id == MessageTemplateVersion.id
        )
    ).all()
    order = list(TEMPLATE_KEYS)
    rows = [r for r in rows if r[0].key in TEMPLATE_KEYS]
    return [_row(t, v) for t, v in sorted(rows, key=lambda r: order.index(r[0].key))]


def get_template(*, actor, key, lock=False):
    """:raises PermissionDenied, TemplateNotFound:"""
    require_permission(actor, PERMISSION)
    if key not in TEMPLATE_KEYS:
        raise TemplateNotFound()
    query = select(MessageTemplate).where(MessageTemplate.key == key)
    template = db.session.scalars(query.with_for_update() if lock else query).first()
    if template is None:
        raise TemplateNotFound()
    current = (
        db.session.get(MessageTemplateVersion, template.current_version_id) if template.current_version_id else None
    )
    return _row(template, current)


def list_versions(*, actor, key, before=None, limit=20):
    """The versions of `key`, newest first, keyset by number. Returns (row, versions, next_before)."""
    row = get_template(actor=actor, key=key)
    query = select(MessageTemplateVersion).where(MessageTemplateVersion.template_id == row.template.id)
    if before:
        query = query.where(MessageTemplateVersion.number < before)
    versions = db.session.scalars(query.order_by(MessageTemplateVersion.number.desc()).limit(limit + 1)).all()
    return row, versions[:limit], (versions[limit - 1].number if len(versions) > limit else None)


def get_version(*, actor, key, version_id):
    """One version of `key`. :raises PermissionDenied, TemplateNotFound:"""
    row = get_template(actor=actor, key=key)
    version = db.session.get(MessageTemplateVersion, version_id) if 0 < version_id < 2**62 else None
    if version is None or version.template_id != row.template.id:
        raise TemplateNotFound()
    return version


def version_for(notification):
    """The template version a notification was sent with (never changed afterwards), or None (inbox only)."""
    if notification.template_version_id is None:
        return None
    return db.session.get(MessageTemplateVersion, notification.template_version_id)


def check_version(key, *, wechat_template_id, long_term, page, fields):
    """The cleaned settings of a new version of `key`. Blank field rows are dropped; errors name the row
    (`fields.<index>.key|label|value`). :raises ValidationFailed: with Chinese messages."""
    errors = {}
    allowed = VARIABLES.get(key, ())
    template_id = (wechat_template_id or "").strip() or None
    if template_id is not None and not WECHAT_TEMPLATE_ID.match(template_id):
        errors["wechat_template_id"] = "微信模板ID须为1至64位字母、数字、下划线或连字符；不推送微信请留空"
    page = (page or "").strip() or None
    if page is not None and (len(page) > 200 or not PAGE.match(page)):
        errors["page"] = "小程序页面须形如 pages/inbox/index，可带 ?参数"
    cleaned, seen = [], set()
    for index, raw in enumerate(fields or []):
        raw = {name: " ".join(str((raw or {}).get(name) or "").split()) for name in ("key", "label", "value")}
        if not any(raw.values()):
            continue
        prefix = f"fields.{index}."
        kind = render.field_type(raw["key"])
        if kind is None:
            errors[prefix + "key"] = "字段名须为微信字段类型加序号，如 thing1、time2、phrase3"
        elif raw["key"] in seen:
            errors[prefix + "key"] = f"字段名 {raw['key']} 重复"
        seen.add(raw["key"])
        if not raw["label"] or len(raw["label"]) > 20:
            errors[prefix + "label"] = "请填写字段名称（不超过20个字）"
        bad = render.unknown_variables(raw["value"], allowed)
        if not raw["value"] or len(raw["value"]) > 100:
            errors[prefix + "value"] = "请填写字段内容（不超过100个字）"
        elif bad:
            errors[prefix + "value"] = "该模板不支持的变量：" + "、".join("{" + b + "}" for b in bad)
        elif kind is not None and kind != "name" and NAME_VARIABLE in render.VARIABLE.findall(raw["value"]):
            errors[prefix + "value"] = "{姓名}只能用于 name 类型的字段"
        cleaned.append(raw)
    if len(cleaned) > MAX_FIELDS:
        errors["fields"] = f"微信订阅消息最多{MAX_FIELDS}个字段"
    elif not cleaned and template_id is not None:
        errors["fields"] = "推送微信时至少需要一个字段"
    if errors:
        raise ValidationFailed(details=errors)
    return {"wechat_template_id": template_id, "long_term": bool(long_term), "page": page, "fields": cleaned}


def _same(version, settings):
    return version is not None and all(getattr(version, name) == value for name, value in settings.items())


def can_edit(actor):
    return actor.can(PERMISSION) and actor.org_unit.parent_id is None


def require_editor(actor):
    """:raises PermissionDenied: no notifications.templates, or not at a root unit (templates are system-wide)."""
    require_permission(actor, PERMISSION)
    if not can_edit(actor):
        raise PermissionDenied(details={"permission": PERMISSION, "reason": "root_unit_only"})


def create_version(*, actor, key, wechat_template_id, long_term, page, fields):
    """Save a new version of `key` and make it current; earlier versions stay as they were. Audited.

    :raises PermissionDenied: no notifications.templates, or not at a root unit.
    :raises TemplateNotFound, ValidationFailed:
    """
    require_editor(actor)
    settings = check_version(key, wechat_template_id=wechat_template_id, long_term=long_term, page=page, fields=fields)
    with transaction():
        row = get_template(actor=actor, key=key, lock=True)  # two saves at once number their versions in turn
        if _same(row.current, settings):
            raise ValidationFailed(details={"fields": "与当前版本相同，无需保存"})
        number = db.session.scalar(
            select(func.max(MessageTemplateVersion.number)).where(MessageTemplateVersion.template_id == row.template.id)
        )
        version = MessageTemplateVersion(
            template_id=row.template.id, number=(number or 0) + 1, created_by_id=actor.id, **settings
        )
        db.session.add(version)
        db.session.flush()
        row.template.current_version_id = version.id
        audit_service.record(
            actor=actor,
            action="notifications.template_version_created",
            object_type="message_template_version",
            object_id=version.id,
            details={"key": key, "number": version.number, "wechat_template_id": settings["wechat_template_id"]},
        )
    return version


def preview(key, version):
    """The exact WeChat card (sample values, clipped to WeChat's limits) and the inbox text of a sample message.

    `version` is a MessageTemplateVersion, saved or not (an unsaved one previews a form before it is saved)."""
    title = SAMPLE_VALUES["标题"]
    values = {name: SAMPLE_VALUES[name] for name in VARIABLES.get(key, ()) if name in SAMPLE_VALUES}
    return Preview(
        card=render.card(version, values),
        labels={f.get("key"): f.get("label") for f in version.fields or []},
        inbox_title=title,
        inbox_body=render.fill(SAMPLE_BODY.get(key, "{标题}"), values),
    )


def draft(settings):
    """An unsaved version from the form's settings, for the preview (never added to the session)."""
    return MessageTemplateVersion(
        **{name: settings.get(name) for name in ("wechat_template_id", "long_term", "page")},
        fields=settings.get("fields") or [],
    )
