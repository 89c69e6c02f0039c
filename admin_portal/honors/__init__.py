"""Honors and ceremonies pages (issue 17, Art. 11): ceremonies and invitations, awards, the local chronicle."""

from flask import Blueprint

bp = Blueprint("honors", __name__)

from admin_portal.honors import record_views, views  # noqa: E402, F401
