"""Employment and entrepreneurship (Art. 13, 18) pages (issue 19)."""

from flask import Blueprint

bp = Blueprint("employment", __name__)

from admin_portal.employment import views  # noqa: E402, F401
