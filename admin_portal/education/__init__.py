"""Education reminders (Art. 5) pages (issue 19)."""

from flask import Blueprint

bp = Blueprint("education", __name__)

from admin_portal.education import views  # noqa: E402, F401
