"""停发规则 (pension.rules): the reasons pay is stopped or suspended, as data — enable, disable, edit the label, the
message the veteran is told and the parameters (grace_days of the automatic registration_overdue rule)."""

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from admin_portal.pension import bp
from admin_portal.security import permission_required
from backend.errors import ValidationFailed
from backend.pension import rules


@bp.get("/rules")
@permission_required("pension.rules")
def rules_page():
    return render_template("pension/rules.html", rules=rules.all_rules(), actions=rules.RULE_ACTION_LABELS)


@bp.post("/rules/<code>")
@permission_required("pension.rules")
def rule_edit(code):
    form = request.form
    try:
        rules.update_rule(
            actor=current_user._get_current_object(),
            code=code[:30],
            enabled=form.get("enabled") == "1",
            label=(form.get("label") or "")[:60],
            message=(form.get("message") or "")[:300],
            grace_days=(form.get("grace_days") or "")[:4] if "grace_days" in form else None,
        )
    except ValidationFailed as error:
        flash(error.message, "danger")
    else:
        flash("已保存停发规则", "success")
    return redirect(url_for("pension.rules_page"))
