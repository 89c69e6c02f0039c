"""Party members (Art. 6) pages (issue 19)."""

from flask import Blueprint

bp = Blueprint("party", __name__)

from admin_portal.party import views  # noqa: E402, F401
