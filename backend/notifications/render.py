"""Rendering a message: the inbox text per veteran and the WeChat card, both previewable before sending.

Variables are written {姓名}, {服务站}, {单位}, {日期}, {标题} … in a body or in a template field's pattern.
A card value is clipped to its WeChat field type's limit (thing ≤ 20 characters, phrase ≤ 5, name ≤ 10,
character_string ≤ 32 …), and anything that looks like an ID number or a mobile number is masked: the card
carries only what it needs.
"""

import re
from datetime import datetime

from backend.db import utcnow
from backend.errors import ValidationFailed
from backend.logs import ID_NUMBER_RE, MOBILE_RE

CST_FORMAT = "%Y年%m月%d日"
VARIABLE = re.compile(r"\{([^{}\s]{1,10})\}")
# Variables staff may use in a care message, with what each becomes.
STAFF_VARIABLES = {
    "姓名": "退役军人姓名",
    "服务站": "所属服务站",
    "单位": "发送单位",
    "日期": "发送日期",
    "标题": "消息标题",
}
# WeChat's value rules by field type (the key without its number): the longest value, or None for formatted types.
LIMITS = {
    "thing": 20,
    "phrase": 5,
    "name": 10,
    "character_string": 32,
    "number": 32,
    "letter": 32,
    "symbol": 5,
    "amount": 32,
    "car_number": 8,
    "time": None,
    "date": None,
}
FIELD_KEY = re.compile(
    r"^(thing|phrase|name|character_string|number|letter|symbol|amount|car_number|time|date)\d{1,2}$"
)


def field_type(key):
    """`thing1` -> `thing`; None for a key WeChat does not define (refused when a template is saved)."""
    match = FIELD_KEY.match(key or "")
    return match.group(1) if match else None


def unknown_variables(text, allowed):
    """The {名称} in `text` that are not in `allowed`, in order of appearance."""
    return [name for name in VARIABLE.findall(text or "") if name not in allowed]


def fill(text, values):
    """Replace each {名称} with its value; a variable without a value is left as written (the preview shows it)."""
    return VARIABLE.sub(lambda m: str(values[m.group(1)]) if m.group(1) in values else m.group(0), text or "")


def clip(kind, value):
    """A card value within WeChat's rule for its type."""
    value = " ".join(str(value or "").split())  # no control characters, no line breaks
    value = MOBILE_RE.sub("***", ID_NUMBER_RE.sub("***", value))
    limit = LIMITS.get(kind)
    if kind == "number":
        value = "".join(ch for ch in value if ch.isdigit() or ch == ".") or "0"
    if kind in ("date", "time"):  # 2026年12月01日, optionally with a time: never cut inside the date
        return value[:30] or utcnow().strftime(CST_FORMAT)
    if limit is not None and len(value) > limit:
        value = value[: limit - 1] + "…" if kind == "thing" else value[:limit]
    return value or "-"


def card(version, values):
    """The subscribe message for `version` (a MessageTemplateVersion) with `values`: {template_id, page, data}."""
    data = {}
    for field in version.fields or []:
        kind = field_type(field.get("key"))
        if kind is None:
            continue
        data[field["key"]] = {"value": clip(kind, fill(field.get("value", ""), values))}
    return {"template_id": version.wechat_template_id, "page": version.page, "data": data}


def common_values(*, title, sender_unit=None, when=None, extra=None):
    """The values every recipient shares: 标题, 单位, 日期 and the notification's own (约谈日期, 截止日期 …)."""
    when = when or utcnow()
    if isinstance(when, datetime):
        from backend.registration.windows import CST

        when = when.astimezone(CST)
    values = {"标题": title, "单位": sender_unit or "退役军人服务中心", "日期": when.strftime(CST_FORMAT)}
    values.update(extra or {})
    return values


def check_body(title, body):
    """:raises ValidationFailed: a variable staff may not use, or an empty title or body."""
    errors = {}
    if not (title or "").strip():
        errors["title"] = "请填写标题"
    if not (body or "").strip():
        errors["body"] = "请填写内容"
    for name, text in (("title", title), ("body", body)):
        bad = unknown_variables(text, STAFF_VARIABLES)
        if bad and name not in errors:
            errors[name] = "不支持的变量：" + "、".join("{" + b + "}" for b in bad)
    if errors:
        raise ValidationFailed(details=errors)
