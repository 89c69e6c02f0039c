"""Feedback, ratings and the closed loop (Art. 24) pages (issue 20)."""

from flask import Blueprint

bp = Blueprint("feedback", __name__)

from admin_portal.feedback import views  # noqa: E402, F401
