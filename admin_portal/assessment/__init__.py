"""Assessment figures and the dashboard (Art. 15, 23) pages (issue 20)."""

from flask import Blueprint

bp = Blueprint("assessment", __name__)

from admin_portal.assessment import views  # noqa: E402, F401
