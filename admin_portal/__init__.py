"""The staff portal: server-rendered pages, Flask-Login sessions, CSRF, HTML error pages."""

from datetime import timedelta, timezone
from pathlib import Path

from flask_talisman import Talisman

from backend import create_app as create_backend
from backend.db import install_web_limits
from backend.extensions import portal_limiter
from backend.webguard import install_input_guards
from backend.webutil import install_id_converter, install_request_context

HERE = Path(__file__).resolve().parent
CST = timezone(timedelta(hours=8))


def format_cst(value, fmt="%Y-%m-%d %H:%M:%S"):
    """A UTC datetime shown in China Standard Time, the calendar staff work in."""
    return value.astimezone(CST).strftime(fmt) if value else ""


def register_blueprints(app):
    """Every blueprint, listed explicitly, each with its auth choice."""
    from admin_portal.archives import bp as archives_bp  # issue 17, Art. 8: personnel archives
    from admin_portal.assessment import bp as assessment_bp  # issue 20, Art. 15 and 23
    from admin_portal.assistance import bp as assistance_bp  # care slice (issue 16, C3)
    from admin_portal.audit.views import bp as audit_bp
    from admin_portal.auth.views import bp as auth_bp
    from admin_portal.bookings import bp as bookings_bp  # bookings slice (issue 14)
    from admin_portal.care import bp as care_bp  # care slice (issue 16, C1): regular contact
    from admin_portal.education import bp as education_bp  # issue 19, Art. 5
    from admin_portal.employment import bp as employment_bp  # issue 19, Art. 13 and 18
    from admin_portal.exports.views import bp as exports_bp  # exports slice (issue 12)
    from admin_portal.feedback import bp as feedback_bp  # issue 20, Art. 24
    from admin_portal.funding.views import bp as funding_bp  # care slice (issue 16, C4)
    from admin_portal.groups.views import bp as groups_bp  # care slice (issue 16, C4)
    from admin_portal.home.charts import bp as charts_bp  # workbench slice (issue 11)
    from admin_portal.home.views import bp as home_bp
    from admin_portal.honors import bp as honors_bp  # issue 17, Art. 11: honors and ceremonies
    from admin_portal.keys.views import bp as keys_bp  # issue 15: personal data keys
    from admin_portal.notifications import bp as notifications_bp  # notifications slice (issue 13)
    from admin_portal.onboarding import bp as onboarding_bp  # issue 17, Art. 7: reception one-stop
    from admin_portal.orgs.views import bp as orgs_bp
    from admin_portal.party import bp as party_bp  # issue 19, Art. 6
    from admin_portal.pension import bp as pension_bp  # issue 18: retirement pay
    from admin_portal.registration.views import bp as registration_bp
    from admin_portal.security import requires_no_login, requires_staff_login
    from admin_portal.staff.views import bp as staff_bp
    from admin_portal.training import bp as training_bp  # issue 19, Art. 20 and 21
    from admin_portal.travel.views import bp as travel_bp
    from admin_portal.veterans.views import bp as veterans_bp
    from admin_portal.visits import bp as visits_bp  # care slice (issue 16, C2): visits and condolences

    blueprints = (
        (auth_bp, None, requires_no_login),
        (home_bp, None, requires_staff_login),
        (charts_bp, "/charts", requires_staff_login),  # workbench slice (issue 11): JSON for the charts
        (orgs_bp, "/orgs", requires_staff_login),
        (staff_bp, "/staff", requires_staff_login),
        (audit_bp, "/audit", requires_staff_login),
        (veterans_bp, "/veterans", requires_staff_login),
        (registration_bp, "/registration", requires_staff_login),
        (travel_bp, "/travel", requires_staff_login),
        (exports_bp, "/exports", requires_staff_login),  # exports slice (issue 12): one's own export jobs
        (notifications_bp, "/notifications", requires_staff_login),  # notifications slice (issue 13)
        (bookings_bp, "/bookings", requires_staff_login),  # bookings slice (issue 14)
        (keys_bp, "/system/keys", requires_staff_login),  # issue 15: personal data keys (sys_admin)
        (assistance_bp, "/assistance", requires_staff_login),  # care slice (issue 16, C3): hardship assistance
        (care_bp, "/care", requires_staff_login),  # care slice (issue 16, C1): regular contact
        (visits_bp, "/visits", requires_staff_login),  # care slice (issue 16, C2): visits and condolences
        (groups_bp, "/groups", requires_staff_login),  # care slice (issue 16, C4)
        (funding_bp, "/funding", requires_staff_login),  # care slice (issue 16, C4)
        (pension_bp, "/pension", requires_staff_login),  # issue 18: retirement pay
        (party_bp, "/party", requires_staff_login),  # issue 19
        (education_bp, "/education", requires_staff_login),  # issue 19
        (employment_bp, "/employment", requires_staff_login),  # issue 19
        (training_bp, "/training", requires_staff_login),  # issue 19
        (feedback_bp, "/feedback", requires_staff_login),  # issue 20
        (assessment_bp, "/assessment", requires_staff_login),  # issue 20
        (onboarding_bp, "/onboarding", requires_staff_login),  # issue 17, Art. 7
        (archives_bp, "/archives", requires_staff_login),  # issue 17, Art. 8
        (honors_bp, "/honors", requires_staff_login),  # issue 17, Art. 11
    )
    for bp, prefix, auth in blueprints:
        app.register_blueprint(bp, url_prefix=prefix)
        # The auth choice is bound per app (not on the shared blueprint object), so several apps can be built.
        app.before_request_funcs.setdefault(bp.name, []).insert(0, auth)


CSP = {
    "default-src": "'self'",
    "img-src": ["'self'", "data:"],
    "style-src": "'self'",
    "script-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}


def create_app(config=None):
    app = create_backend(config)
    install_web_limits(app)  # issue 21: the web processes' statement_timeout (DB_STATEMENT_TIMEOUT_MS)
    app.name = "admin_portal"
    if app.config["APP_ENV"] == "production":  # staffsec slice (issue 10): 三员分立 of existing accounts
        from backend.staff.separation import enforce_role_separation

        enforce_role_separation(app)
    app.template_folder = str(HERE / "templates")
    app.static_folder = str(HERE / "static")
    app.add_url_rule("/static/<path:filename>", endpoint="static", view_func=app.send_static_file)

    from flask_bootstrap import Bootstrap5
    from flask_wtf import CSRFProtect

    from admin_portal import errors, security

    install_request_context(app)
    install_id_converter(app)
    Bootstrap5(app)
    CSRFProtect(app)
    Talisman(
        app,
        force_https=app.config["FORCE_HTTPS"],
        session_cookie_secure=app.config["SESSION_COOKIE_SECURE"],
        content_security_policy=CSP,
        frame_options="DENY",
        strict_transport_security=app.config["FORCE_HTTPS"],
    )
    portal_limiter.init_app(app)
    security.init_app(app)
    errors.register(app)
    app.add_template_filter(format_cst, "cst")
    register_blueprints(app)
    install_input_guards(app)
    app.before_request_funcs.setdefault(None, []).insert(0, security.upload_limit)  # before CSRFProtect reads a body
    return app
