"""Personnel archive pages (issue 17, Art. 8): register, intake, requests and the permanent log, inspections."""

from flask import Blueprint

bp = Blueprint("archives", __name__)

from admin_portal.archives import views  # noqa: E402, F401
