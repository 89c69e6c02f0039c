"""Visits and condolences pages (issue 16): campaigns, assignment, progress, recording a visit with photos."""

from flask import Blueprint

bp = Blueprint("visits", __name__)

from admin_portal.visits import views  # noqa: E402, F401
