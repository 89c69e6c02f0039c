"""The API's one error envelope: {"error": {code, message, details}, "request_id"} for every non-2xx answer."""

import logging

import marshmallow as ma
from flask import g, jsonify
from werkzeug.exceptions import HTTPException, InternalServerError

from backend import denials
from backend.errors import AppError
from backend.webutil import current_request_id

log = logging.getLogger(__name__)

HTTP_CODES = {
    400: ("request.malformed", "请求格式有误"),
    401: ("auth.required", "请先登录"),
    403: ("auth.forbidden", "您没有执行此操作的权限"),
    404: ("resource.not_found", "未找到相关记录"),
    405: ("request.method_not_allowed", "不支持该请求方式"),
    409: ("request.conflict", "当前状态不允许此操作"),
    413: ("request.too_large", "提交的内容过大"),
    415: ("request.unsupported_media_type", "请以 JSON 格式提交"),
    422: ("request.invalid", "提交的内容有误，请检查后重试"),
    429: ("request.rate_limited", "操作过于频繁，请稍后再试"),
}

# marshmallow's English messages, in Chinese for the person holding the phone.
FIELD_MESSAGES = {
    "Missing data for required field.": "此项为必填项",
    "Field may not be null.": "此项不能为空",
    "Unknown field.": "不允许提交此字段",
    "Not a valid string.": "应为文本",
    "Not a valid integer.": "应为整数",
    "Not a valid number.": "应为数字",
    "Not a valid boolean.": "应为是或否",
    "Not a valid date.": "日期格式应为 YYYY-MM-DD",
    "Not a valid datetime.": "时间格式有误",
    "Not a valid mapping type.": "格式有误",
    "Not a valid list.": "应为列表",
    "Invalid input type.": "格式有误",
    "Invalid value.": "取值无效",
    "Must be one of:": "取值无效",
    "Shorter than minimum length": "内容过短",
    "Longer than maximum length": "内容过长",
    "Length must be between": "长度不符合要求",
}


def _translate(message):
    if isinstance(message, str):
        for english, chinese in FIELD_MESSAGES.items():
            if message.startswith(english):
                return chinese
        return message
    if isinstance(message, list):
        return "；".join(_translate(m) for m in message)
    return message


def _flatten(messages, prefix=""):
    """{"json": {"a": {"b": ["..."]}}} -> {"a.b": "..."} (the location is dropped)."""
    out = {}
    for key, value in (messages or {}).items():
        name = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, dict):
            out.update(_flatten(value, name))
        else:
            out[name] = _translate(value)
    return out


def envelope(code, message, status, details=None, headers=None):
    body = {"error": {"code": code, "message": message, "details": details or {}}, "request_id": current_request_id()}
    response = jsonify(body)
    response.status_code = status
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def handle_app_error(error):
    if denials.denial_of(error) is not None:  # another veteran's record: audited, still answered as not found
        denials.record_marked(actor=g.get("account"), error=error)
    return envelope(error.code, error.message, error.status, error.details)


def handle_http_exception(error):
    if isinstance(error, InternalServerError) or error.code is None or error.code >= 500:
        original = getattr(error, "original_exception", None)
        if original is not None:
            log.error("unhandled exception", exc_info=original)
        return envelope("server.internal_error", "系统繁忙，请稍后再试", 500)
    code, message = HTTP_CODES.get(error.code, ("request.malformed", "请求有误"))
    details = {}
    data = getattr(error, "data", None) or {}
    if error.code == 422:
        messages = data.get("messages") or data.get("errors") or {}
        # webargs nests by location ({"json": {...}}); clients want the field names.
        merged = {}
        for location, fields in messages.items():
            merged.update(fields if isinstance(fields, dict) else {location: fields})
        details = _flatten(merged)
    headers = data.get("headers") or {}
    if error.code == 405 and hasattr(error, "valid_methods") and error.valid_methods:
        headers["Allow"] = ", ".join(error.valid_methods)
    return envelope(code, message, error.code, details, headers)


def handle_unexpected(error):
    log.error("unhandled exception", exc_info=error)
    return envelope("server.internal_error", "系统繁忙，请稍后再试", 500)


class ErrorBodySchema(ma.Schema):
    code = ma.fields.String(
        required=True, metadata={"description": "stable dotted code, e.g. registration.window_closed"}
    )
    message = ma.fields.String(required=True, metadata={"description": "Chinese text for the person"})
    details = ma.fields.Dict(metadata={"description": "per-field messages or facts about the refusal"})


class ErrorEnvelopeSchema(ma.Schema):
    error = ma.fields.Nested(ErrorBodySchema, required=True)
    request_id = ma.fields.String(allow_none=True)


def register(app):
    app.register_error_handler(AppError, handle_app_error)
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(Exception, handle_unexpected)
