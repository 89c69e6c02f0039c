"""The call list (电话联系任务): veterans a message did not reach; staff phone them and record the outcome."""

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from admin_portal.forms import ConfirmForm
from admin_portal.notifications import bp
from admin_portal.security import permission_required
from backend.errors import RuleViolation, ValidationFailed
from backend.notifications import calls


def _actor():
    return current_user._get_current_object()


def _after(source):
    try:
        value = int(source.get("after") or 0)
    except (TypeError, ValueError):
        return None
    return value if 0 < value < 2**63 else None


def _page(after, revealed=None):
    rows, next_after = calls.list_open(actor=_actor(), after=after)
    return render_template(
        "notifications/calls.html",
        rows=rows,
        next_after=next_after,
        after=after,
        outcomes=calls.OUTCOME_LABELS,
        revealed=revealed or {},
        confirm=ConfirmForm(),
        can_view_veterans=_actor().can("veterans.view"),
    )


@bp.route("/calls", endpoint="calls")
@permission_required("notifications.calls")
def calls_index():
    return _page(_after(request.args))


@bp.route("/calls/<id:task_id>/reveal", methods=["POST"])
@permission_required("notifications.calls")
def call_reveal(task_id):
    ConfirmForm().validate_on_submit()
    phone = calls.reveal_phone(actor=_actor(), task_id=task_id)
    return _page(_after(request.form), revealed={task_id: phone or "未登记"})


@bp.route("/calls/<id:task_id>/outcome", methods=["POST"])
@permission_required("notifications.calls")
def call_outcome(task_id):
    ConfirmForm().validate_on_submit()
    form = request.form
    try:
        calls.record_outcome(actor=_actor(), task_id=task_id, outcome=form.get("outcome"), note=form.get("note", ""))
    except (ValidationFailed, RuleViolation) as error:
        flash("；".join(map(str, error.details.values())) or error.message, "danger")
    else:
        flash("联系结果已记录", "success")
    after = _after(form)
    return redirect(url_for("notifications.calls", **({"after": after} if after else {})))
