"""The second login step (TOTP or recovery code), TOTP enrolment, and the account's second-factor page."""

from flask import current_app, flash, redirect, render_template, session, url_for
from flask_login import current_user

from admin_portal.auth import pending
from admin_portal.auth.forms import CodeForm, EnrolForm
from admin_portal.auth.views import bp
from admin_portal.security import requires_staff_login, start_session
from backend.extensions import portal_limiter
from backend.staff import service as staff_service
from backend.staff import totp
from backend.staff.service import InvalidCredentials


@bp.after_request
def _no_store(response):
    """Login steps, TOTP secrets and recovery codes never stay in a browser or proxy cache."""
    response.headers["Cache-Control"] = "no-store"
    return response


def _code_limit():
    return current_app.config["PORTAL_LOGIN_RATE_LIMIT"]


def _login_again():
    pending.clear()
    flash("登录已失效，请重新登录", "warning")
    return redirect(url_for("auth.login"))


def _finish_login(staff, state):
    """The second factor is done: only now does the session become authenticated."""
    start_session(staff, state["must_change"])
    return url_for("auth.change_password") if state["must_change"] else state["next"]


@bp.route("/login/verify", methods=["GET", "POST"])
@portal_limiter.limit(_code_limit, methods=["POST"])
def verify():
    state = pending.current()
    if state is None:
        return _login_again()
    staff = staff_service.load_session_staff(f"{state['id']}:{state['token']}")
    if staff is None:
        return _login_again()
    if not staff.totp_enrolled:  # no skipping enrolment by coming here instead
        return redirect(url_for("auth.enrol"))
    form = CodeForm()
    if form.validate_on_submit():
        try:
            staff = totp.verify_login_code(staff_id=state["id"], session_token=state["token"], code=form.code.data)
        except totp.SecondFactorInvalid as error:
            form.code.errors = [error.message]
        except InvalidCredentials:
            return _login_again()
        else:
            return redirect(_finish_login(staff, state))
    return render_template("auth/verify.html", form=form)


def _enrolling():
    """(staff, session token, pending login or None) for whoever may enrol here, or (None, None, redirect)."""
    state = pending.current()
    if state is not None:
        staff = staff_service.load_session_staff(f"{state['id']}:{state['token']}")
        return (staff, state["token"], state) if staff else (None, None, _login_again())
    refusal = requires_staff_login()
    if refusal is not None:
        return None, None, refusal
    staff = current_user._get_current_object()
    return staff, staff.session_token, None


@bp.route("/account/totp/enrol", methods=["GET", "POST"])
@portal_limiter.limit(_code_limit, methods=["POST"])
def enrol():
    staff, token, state = _enrolling()
    if staff is None:
        return state  # the redirect
    if staff.totp_enrolled:
        return redirect(url_for("auth.verify") if state else url_for("auth.totp_status"))
    enrolment = totp.begin_enrolment(staff, session.get(pending.ENROL_KEY))
    session[pending.ENROL_KEY] = enrolment.sealed_secret
    form = EnrolForm()
    if form.validate_on_submit():
        try:
            staff, codes = totp.confirm_enrolment(
                staff_id=staff.id,
                session_token=token,
                sealed_secret=enrolment.sealed_secret,
                code=form.code.data,
                login=state is not None,
            )
        except totp.SecondFactorInvalid as error:
            form.code.errors = [error.message]
        except InvalidCredentials:
            return _login_again()
        else:
            session.pop(pending.ENROL_KEY, None)
            next_url = _finish_login(staff, state) if state else url_for("auth.totp_status")
            return render_template("auth/recovery_codes.html", codes=codes, next_url=next_url)
    return render_template("auth/enrol.html", form=form, enrolment=enrolment, at_login=state is not None)


@bp.route("/account/totp")
def totp_status():
    refusal = requires_staff_login()
    if refusal is not None:
        return refusal
    staff = current_user._get_current_object()
    return render_template(
        "auth/totp_status.html",
        staff=staff,
        required=staff_service.second_factor_required(staff),
        codes_left=totp.recovery_codes_left(staff) if staff.totp_enrolled else 0,
    )
