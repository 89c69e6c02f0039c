"""Notification pages (issue 13): compose and send, templates, delivery reports, the call list."""

from flask import Blueprint

bp = Blueprint("notifications", __name__)

from admin_portal.notifications import call_views, report_views, template_views, views  # noqa: E402, F401
