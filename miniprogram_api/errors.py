"""The API's one error envelope: {"error": {code, message, details}, "request_id"} for every non-2xx answer."""

import logging
import re

import marshmallow as ma
from flask import jsonify
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException, InternalServerError

from backend import denials
from backend.db import is_statement_timeout
from backend.errors import AppError, ServerBusy, StaleUpdate
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

# marshmallow's and webargs' English messages, in Chinese for the person holding the phone: (pattern, template).
# Numbers in the message (lengths, bounds) are kept; any message still without Chinese falls back to FALLBACK.
FIELD_MESSAGES = [
    (r"Missing data for required field\.", "此项为必填项"),
    (r"Field may not be null\.", "此项不能为空"),
    (r"Unknown field\.", "不允许提交此字段"),
    (r"Not a valid (utf-8 )?string\.", "应为文本"),
    (r"Not a valid integer\.", "应为整数"),
    (r"Not a valid (number|decimal)\.", "应为数字"),
    (r"Number too large\.", "数值过大"),
    (r"Special numeric values .* are not permitted\.", "应为数字"),
    (r"Not a valid boolean\.", "应为是或否"),
    (r"Not a valid date\.", "日期格式应为 YYYY-MM-DD"),
    (r"Not a valid (naive |aware )?datetime\.", "时间格式有误"),
    (r"Not a valid (time|period of time|UUID|email address|URL|IP address|enum)\.?", "格式有误"),
    (r"Not a valid (mapping type|list|tuple)\.", "格式有误"),
    (r"Invalid (input )?type\.", "格式有误"),
    (r"Invalid (value|input)\.", "取值无效"),
    (r"Invalid JSON body\.", "请求体不是有效的 JSON"),
    (r"Must be one of: .*", "取值无效"),
    (r"Must be equal to .*", "取值无效"),
    (r"One or more of the choices you made was (not )?in: .*", "取值无效"),
    (r"String does not match expected pattern\.", "格式有误"),
    (r"Must be greater than or equal to (\S+) and less than or equal to (\S+)\.", "应在 {0} 到 {1} 之间"),
    (r"Must be greater than (\S+) and less than (\S+)\.", "应大于 {0} 且小于 {1}"),
    (r"Must be greater than or equal to (\S+) and less than (\S+)\.", "应不小于 {0} 且小于 {1}"),
    (r"Must be greater than (\S+) and less than or equal to (\S+)\.", "应大于 {0} 且不大于 {1}"),
    (r"Must be greater than or equal to (\S+)\.", "不能小于 {0}"),
    (r"Must be less than or equal to (\S+)\.", "不能大于 {0}"),
    (r"Must be greater than (\S+)\.", "应大于 {0}"),
    (r"Must be less than (\S+)\.", "应小于 {0}"),
    (r"Shorter than minimum length (\d+)\.", "至少 {0} 个字"),
    (r"Longer than maximum length (\d+)\.", "最多 {0} 个字"),
    (r"Length must be between (\d+) and (\d+)\.", "长度应在 {0} 到 {1} 个字之间"),
    (r"Length must be (\d+)\.", "长度应为 {0} 个字"),
]
FIELD_PATTERNS = [(re.compile(pattern), template) for pattern, template in FIELD_MESSAGES]
FALLBACK = "取值无效"
_CJK = re.compile(r"[\u4e00-\u9fff]")


def _translate(message):
    if isinstance(message, str):
        for pattern, template in FIELD_PATTERNS:
            match = pattern.fullmatch(message)
            if match:
                return template.format(*match.groups())
        return message if _CJK.search(message) else FALLBACK
    if isinstance(message, list):
        return "；".join(dict.fromkeys(_translate(m) for m in message))
    if isinstance(message, dict):  # errors of list items or dict values: {0: [...]} or {"key": {...}}
        return "；".join(dict.fromkeys(_translate(m) for m in message.values()))
    return FALLBACK


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
    """The error answer; request_id sits inside `error` as api.md shows, and outside for older clients."""
    request_id = current_request_id()
    body = {
        "error": {"code": code, "message": message, "details": details or {}, "request_id": request_id},
        "request_id": request_id,
    }
    response = jsonify(body)
    response.status_code = status
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def handle_app_error(error):
    if denials.denial_of(error) is not None:  # another veteran's record: audited, still answered as not found
        from miniprogram_api.security import audit_actor  # security imports this module

        denials.record_marked(actor=audit_actor(), error=error)
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
    request_id = ma.fields.String(allow_none=True, metadata={"description": "the same id as X-Request-Id"})


class ErrorEnvelopeSchema(ma.Schema):
    error = ma.fields.Nested(ErrorBodySchema, required=True)
    request_id = ma.fields.String(allow_none=True)


def handle_stale(error):
    return handle_app_error(StaleUpdate())


def handle_operational(error):
    """Issue 21: a query cancelled by statement_timeout is a clean 503 server.busy; any other failure stays a 500."""
    if is_statement_timeout(error):
        log.warning("statement cancelled by statement_timeout")
        busy = ServerBusy()
        return envelope(busy.code, busy.message, busy.status, headers={"Retry-After": "5"})
    return handle_unexpected(error)


def register(app):
    app.register_error_handler(AppError, handle_app_error)
    app.register_error_handler(OperationalError, handle_operational)
    app.register_error_handler(StaleDataError, handle_stale)
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(Exception, handle_unexpected)
