"""Staff training and responsible persons (Art. 20, 21) pages (issue 19)."""

from flask import Blueprint

bp = Blueprint("training", __name__)

from admin_portal.training import views  # noqa: E402, F401
