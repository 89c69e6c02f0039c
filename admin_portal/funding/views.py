"""经费统计 (Art. 22): spending by funding source, unit and purpose for a budget year, and its Excel export."""

from flask import Blueprint, render_template, request
from flask_login import current_user

from admin_portal.exports.launch import start_export
from admin_portal.security import permission_required
from backend.errors import ValidationFailed
from backend.funding import figures
from backend.registration.windows import today_cst

bp = Blueprint("funding", __name__)


def _actor():
    return current_user._get_current_object()


@bp.route("/")
@permission_required("funding.view")
def index():
    actor, errors = _actor(), {}
    try:
        report = figures.funding_report(
            actor=actor, year=request.args.get("year"), unit_id=request.args.get("unit", type=int)
        )
    except ValidationFailed as error:
        errors = {k: v for k, v in error.details.items() if isinstance(v, str)} or {"year": error.message}
        report = figures.funding_report(actor=actor, unit_id=request.args.get("unit", type=int))
    this_year = today_cst().year
    return render_template(
        "funding/index.html",
        report=report,
        errors=errors,
        units=figures.picker_units(actor),
        years=range(this_year + 1, this_year - 10, -1),
        sources=figures.SOURCES,
        yuan=figures.yuan,
    ), 422 if errors else 200


@bp.route("/export", methods=["POST"])
@permission_required("funding.view")
def export():
    params = {"year": request.form.get("year", "")[:8], "unit": request.form.get("unit", "")[:20]}
    return start_export("funding_figures", params)
