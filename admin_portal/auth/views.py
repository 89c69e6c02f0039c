"""Login, logout, password change."""

from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user

from admin_portal.auth import pending
from admin_portal.auth.forms import LoginForm, PasswordChangeForm
from admin_portal.forms import ConfirmForm, apply_error
from admin_portal.security import end_session, requires_staff_login, start_session
from backend.errors import AppError, ValidationFailed
from backend.extensions import portal_limiter
from backend.staff import service as staff_service
from backend.staff.service import InvalidCredentials

bp = Blueprint("auth", __name__)


def _safe_next(target):
    """Only same-site relative paths; never an open redirect."""
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return url_for("home.index")


@bp.route("/login", methods=["GET", "POST"])
@portal_limiter.limit(lambda: current_app.config["PORTAL_LOGIN_RATE_LIMIT"], methods=["POST"])
def login():
    if current_user.is_authenticated and request.method == "GET":
        return redirect(url_for("home.index"))
    form = LoginForm()
    if form.validate_on_submit():
        try:
            result = staff_service.authenticate_staff(username=form.username.data, password=form.password.data)
        except AppError as error:
            flash(error.message, "danger")
        else:
            if result.second_factor:
                pending.begin(
                    result.staff,
                    must_change_password=result.must_change_password,
                    next_url=_safe_next(request.args.get("next")),
                )
                return redirect(url_for("auth.verify" if result.second_factor == "verify" else "auth.enrol"))
            start_session(result.staff, result.must_change_password)
            if result.must_change_password:
                return redirect(url_for("auth.change_password"))
            return redirect(_safe_next(request.args.get("next")))
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
def logout():
    ConfirmForm().validate_on_submit()  # CSRF is checked by CSRFProtect before we get here
    if current_user.is_authenticated:
        staff_service.record_logout(actor=current_user._get_current_object())
    end_session()
    flash("您已安全退出", "success")
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
def change_password():
    refusal = requires_staff_login()
    if refusal is not None:
        return refusal
    form = PasswordChangeForm()
    if form.validate_on_submit():
        try:
            staff = staff_service.change_own_password(
                actor=current_user._get_current_object(),
                current_password=form.current_password.data,
                new_password=form.new_password.data,
            )
        except InvalidCredentials:  # too many wrong current passwords: the account is locked and its sessions ended
            end_session()
            flash("当前密码错误次数过多，账号已锁定，请稍后重新登录", "danger")
            return redirect(url_for("auth.login"))
        except ValidationFailed as error:
            apply_error(form, error if error.details else _field_error(error))
        else:
            start_session(staff, must_change_password=False)
            flash("密码已修改", "success")
            return redirect(url_for("home.index"))
    forced = session.get("must_change_password", False)
    return render_template("auth/password.html", form=form, forced=forced)


def _field_error(error):
    return ValidationFailed(error.message, code=error.code, details={"new_password": error.message})


from admin_portal.auth import preferences  # noqa: E402,F401,I001  (a11y slice: the 大字版 toggle of this blueprint)
from admin_portal.auth import second_factor  # noqa: E402,F401  (the second-factor routes of this blueprint)
