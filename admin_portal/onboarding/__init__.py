"""Reception one-stop pages (issue 17, Art. 7): the open cases, one case's checklist on one screen."""

from flask import Blueprint

bp = Blueprint("onboarding", __name__)

from admin_portal.onboarding import views  # noqa: E402, F401
