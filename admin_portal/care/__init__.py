"""常态化联系 (issue 16, C1): overdue lists, coverage, per-unit policies, and the veteran page's contact section."""

from flask import Blueprint

bp = Blueprint("care", __name__)

from admin_portal.care import views  # noqa: E402, F401
