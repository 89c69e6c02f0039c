"""HTML error pages for the portal; refusals are audited. No stack trace, SQL or path ever reaches the page."""

import logging

from flask import render_template
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException

from backend import denials
from backend.db import is_statement_timeout
from backend.errors import AppError, PermissionDenied, StaleUpdate

log = logging.getLogger(__name__)

MESSAGES = {
    400: ("请求有误", "请求格式不正确，请返回后重试。"),
    403: ("没有权限", "您没有执行此操作的权限。如需开通，请联系安全管理员。"),
    404: ("页面不存在", "未找到您要访问的页面或记录，它可能不存在，或不在您的管辖范围内。"),
    405: ("请求方式不支持", "不支持该请求方式。"),
    409: ("操作未完成", "当前状态不允许此操作。"),
    413: ("内容过大", "提交的内容超过了大小限制。"),
    422: ("内容有误", "提交的内容有误，请检查后重试。"),
    429: ("操作过于频繁", "操作过于频繁，请稍后再试。"),
    503: ("系统繁忙", "系统繁忙，请稍后再试。"),  # issue 21: server.busy, a query ran past statement_timeout
    500: ("系统繁忙", "系统出现问题，请稍后再试。如问题持续，请联系系统管理员并提供下方的请求编号。"),
}


def render_error(status, message=None):
    title, default = MESSAGES.get(status, MESSAGES[500])
    return render_template("errors/error.html", status=status, title=title, message=message or default), status


def handle_app_error(error):
    if current_user.is_authenticated:  # refusals are audited once per actor, request and minute (backend/denials.py)
        actor = current_user._get_current_object()
        if isinstance(error, PermissionDenied):
            denials.record_refusal(actor=actor, reason="permission", details=error.details)
        else:
            denials.record_marked(actor=actor, error=error)  # out of scope: a not-found page, audited
    status = error.status if error.status in MESSAGES else 409
    return render_error(status, error.message if status in (409, 422) else None)


def handle_csrf(error):
    return render_error(400, "页面已过期或表单校验失败，请刷新页面后重新提交。")


def handle_http(error):
    if error.code is None or error.code >= 500:
        return handle_unexpected(getattr(error, "original_exception", error))
    return render_error(error.code if error.code in MESSAGES else 400)


def handle_unexpected(error):
    log.error("unhandled exception", exc_info=error)
    return render_error(500)


def handle_stale(error):
    return handle_app_error(StaleUpdate())


def handle_operational(error):
    """Issue 21: a query cancelled by statement_timeout is a 503 page; any other database failure stays a 500."""
    if is_statement_timeout(error):
        log.warning("statement cancelled by statement_timeout")
        body, status = render_error(503)
        return body, status, {"Retry-After": "5"}
    return handle_unexpected(error)


def register(app):
    app.register_error_handler(AppError, handle_app_error)
    app.register_error_handler(OperationalError, handle_operational)
    app.register_error_handler(StaleDataError, handle_stale)
    app.register_error_handler(CSRFError, handle_csrf)
    app.register_error_handler(HTTPException, handle_http)
    app.register_error_handler(Exception, handle_unexpected)
