"""工作台: who you are, where you work, what you can do."""

from flask import Blueprint, render_template
from flask_login import current_user

from backend.orgs.service import list_ancestors

bp = Blueprint("home", __name__)


@bp.route("/")
def index():
    staff = current_user._get_current_object()
    return render_template(
        "home/index.html",
        staff=staff,
        unit_path=list_ancestors(staff.org_unit) + [staff.org_unit],
        can_manage_orgs=staff.can("orgs.manage"),
        can_manage_staff=staff.can("staff.manage"),
        can_view_audit=staff.can("audit.view"),
    )
