"""Scaffolding: replaced by the capability's views."""

from flask import abort

from admin_portal.archives import bp
from admin_portal.security import permission_required


@bp.get("/")
@permission_required("archives.view")
def index():
    abort(404)
