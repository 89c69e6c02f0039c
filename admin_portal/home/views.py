"""工作台: each role's work within its scope, from the card providers (admin_portal/home/cards.py)."""

from flask import Blueprint, render_template
from flask_login import current_user

from admin_portal.home.cards import cards_for
from backend.orgs.service import list_ancestors

bp = Blueprint("home", __name__)


@bp.route("/")
def index():
    staff = current_user._get_current_object()
    return render_template(
        "home/index.html",
        staff=staff,
        unit_path=list_ancestors(staff.org_unit) + [staff.org_unit],
        cards=cards_for(staff),
        can_manage_staff=staff.can("staff.manage"),
        can_view_audit=staff.can("audit.view"),
    )
