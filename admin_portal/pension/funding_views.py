"""退役金经费统计 (Art. 22): confirmed payroll totals by funding source, unit, component and month; Excel export."""

from flask import render_template, request
from flask_login import current_user

from admin_portal.exports.launch import start_export
from admin_portal.pension import bp
from admin_portal.security import permission_required
from backend.errors import ValidationFailed
from backend.funding.figures import picker_units
from backend.pension import funding
from backend.pension.money import fen_to_yuan
from backend.registration.windows import today_cst


@bp.route("/funding")
@permission_required("funding.view")
def funding_index():
    actor, errors = current_user._get_current_object(), {}
    unit_id = request.args.get("unit", type=int)
    try:
        report = funding.report(
            actor=actor, unit_id=unit_id, year=request.args.get("year"), month=request.args.get("month")
        )
    except ValidationFailed as error:
        errors = {k: v for k, v in error.details.items() if isinstance(v, str)} or {"year": error.message}
        report = funding.report(actor=actor, unit_id=unit_id)
    this_year = today_cst().year
    return render_template(
        "pension/funding.html",
        report=report,
        errors=errors,
        units=picker_units(actor),
        years=range(this_year + 1, this_year - 10, -1),
        fundings=funding.FUNDING_LABELS,
        yuan=fen_to_yuan,
    ), 422 if errors else 200


@bp.route("/funding/export", methods=["POST"])
@permission_required("funding.view")
def funding_export():
    form = request.form
    params = {"year": form.get("year", "")[:8], "month": form.get("month", "")[:4], "unit": form.get("unit", "")[:20]}
    return start_export("pension_funding", params)
