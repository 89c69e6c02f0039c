"""Scaffolding: replaced by the capability's views."""

from flask import abort

from admin_portal.security import permission_required
from admin_portal.training import bp


@bp.get("/")
@permission_required("training.view")
def index():
    abort(404)
