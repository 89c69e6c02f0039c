"""Staff sessions: Flask-Login, the idle and absolute timeouts, forced password change, permission checks, nav."""

import time
from functools import wraps

from flask import current_app, flash, redirect, request, session, url_for
from flask_login import LoginManager, current_user, logout_user

from backend.errors import PermissionDenied
from backend.staff.service import load_session_staff

login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.login_message = "请先登录"
login_manager.login_message_category = "warning"
login_manager.session_protection = "strong"

# (endpoint, label, permission): the left navigation, filtered per user.
NAV = [
    ("home.index", "工作台", None),
    ("registration.index", "年度确认", "registration.view"),
    ("veterans.index", "退役军人", "veterans.view"),
    ("travel.index", "出入境", "travel.view"),
    ("veterans.coverage", "覆盖率", "veterans.view"),
    ("orgs.index", "组织机构", "orgs.view"),
    ("staff.index", "工作人员", "staff.view"),
    ("registration.figures", "确认进度", "registration.view"),
    ("registration.windows_admin", "办理时间", "registration.windows"),
    ("audit.index", "审计日志", "audit.view"),
    ("exports.index", "我的导出", None),  # exports slice (issue 12): one's own export jobs
    ("notifications.templates_index", "消息模板", "notifications.templates"),  # notifications slice (issue 13)
    ("notifications.index", "通知", "notifications.view"),  # notifications slice (issue 13)
    ("notifications.calls", "电话联系", "notifications.calls"),  # notifications slice (issue 13)
    ("bookings.counter", "预约窗口", "bookings.counter"),  # bookings slice (issue 14): the counter
    ("bookings.figures", "预约统计", "bookings.view"),  # bookings slice (issue 14): weekly figures
    ("bookings.catalog", "服务项目", "bookings.manage"),  # bookings slice (issue 14): catalog and calendar
    ("keys.index", "个人信息密钥", "pii.keys"),  # issue 15
    ("care.overdue", "常态化联系", "care.view"),  # care slice (issue 16, C1): overdue contacts
    ("visits.index", "走访慰问", "care.view"),  # care slice (issue 16, C2): visits and condolences
    ("groups.index", "自我服务小组", "groups.manage"),  # care slice (issue 16, C4)
    ("funding.index", "经费统计", "funding.view"),  # care slice (issue 16, C4)
    ("assistance.index", "帮扶援助", "care.view"),  # care slice (issue 16, C3): hardship assistance
    ("pension.index", "退役金", "pension.view"),  # issue 18
    ("party.index", "党员管理", "party.view"),  # issue 19, Art. 6
    ("education.index", "教育提醒", "education.view"),  # issue 19, Art. 5
    ("employment.index", "就业创业", "employment.view"),  # issue 19, Art. 13 and 18
    ("training.index", "人员培训", "training.view"),  # issue 19, Art. 20 and 21
    ("feedback.index", "评价与投诉", "feedback.view"),  # issue 20, Art. 24
    ("assessment.index", "考核评价", "assessment.view"),  # issue 20, Art. 15 and 23
    ("onboarding.index", "接收安置", "onboarding.view"),  # issue 17, Art. 7
    ("archives.index", "人事档案", "archives.view"),  # issue 17, Art. 8
    ("honors.index", "荣誉与仪式", "honors.view"),  # issue 17, Art. 11
]

# Endpoints a user with an expired or temporary password may still reach.
# a11y slice (issue 11): 大字版 too, so a forced password change can be done in large text.
PASSWORD_CHANGE_ALLOWED = {"auth.change_password", "auth.logout", "auth.large_text", "static", "bootstrap.static"}


@login_manager.user_loader
def _load_user(session_id):
    return load_session_staff(session_id)


def init_app(app):
    login_manager.init_app(app)

    @app.context_processor
    def _nav():
        if not current_user.is_authenticated:
            return {"nav_items": []}
        items = [(ep, label) for ep, label, perm in NAV if perm is None or current_user.can(perm)]
        endpoint = request.endpoint or ""
        exact = [ep for ep, _ in items if ep == endpoint]
        same_bp = [ep for ep, _ in items if ep.split(".")[0] == endpoint.split(".")[0]]
        return {"nav_items": items, "active_nav": (exact or same_bp or [None])[0]}


def start_session(staff, must_change_password):
    """Called after a successful login: a fresh session (new id) with its timestamps."""
    from flask_login import login_user

    session.clear()
    login_user(staff)
    now = int(time.time())
    session["login_at"] = now
    session["seen_at"] = now
    session["must_change_password"] = bool(must_change_password)


def end_session():
    logout_user()
    session.clear()


def requires_no_login():
    """Auth choice for the login pages."""


def requires_staff_login():
    """Auth choice for every staff page: a live session, within the idle and absolute timeouts."""
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    now = int(time.time())
    idle = current_app.config["STAFF_IDLE_TIMEOUT"].total_seconds()
    max_age = current_app.config["STAFF_SESSION_MAX_AGE"].total_seconds()
    if now - session.get("seen_at", 0) > idle or now - session.get("login_at", 0) > max_age:
        end_session()
        flash("长时间未操作，已自动退出，请重新登录", "warning")
        return redirect(url_for("auth.login", next=request.path))
    session["seen_at"] = now
    if session.get("must_change_password") and request.endpoint not in PASSWORD_CHANGE_ALLOWED:
        flash("请先修改密码后再继续使用", "warning")
        return redirect(url_for("auth.change_password"))
    return None


def accepts_upload(max_bytes):
    """Let this view's body carry a file of up to `max_bytes` plus 64 KB of form; every other request keeps the 1 MB
    MAX_CONTENT_LENGTH. Applied by upload_limit(), the first hook of the app: a blueprint hook runs after
    CSRFProtect has already parsed the form under the 1 MB limit (a 413 for any larger file)."""

    def decorator(view):
        view.upload_limit = max_bytes + 64 * 1024
        return view

    return decorator


def upload_limit():
    view = current_app.view_functions.get(request.endpoint)
    limit = getattr(view, "upload_limit", None)
    if limit:
        request.max_content_length = limit


def permission_required(permission):
    """Refuse the view (403, audited) unless the current user's roles grant `permission`."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.can(permission):
                raise PermissionDenied(details={"permission": permission})
            return view(*args, **kwargs)

        return wrapped

    return decorator
