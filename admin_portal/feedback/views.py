"""Scaffolding: replaced by the capability's views."""

from flask import abort

from admin_portal.feedback import bp
from admin_portal.security import permission_required


@bp.get("/")
@permission_required("feedback.view")
def index():
    abort(404)
