"""退役金调整批次: the batches in scope, a new batch (previewed at once), its preview with the lines, the checker's
confirmation page, cancelling and the compensating batch (冲正), and the lines' export. Rules live in
backend/pension/adjustments.py and adjust_preview.py."""

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from admin_portal.exports.launch import start_export
from admin_portal.pension import bp
from admin_portal.security import permission_required
from backend.errors import RuleViolation, ValidationFailed
from backend.pension import adjust_preview, adjustments
from backend.pension.models import BATCH_STATES
from backend.pension.money import fen_to_yuan
from backend.webutil import positive_int


def _actor():
    return current_user._get_current_object()


def _failed(error):
    details = [v for v in (error.details or {}).values() if isinstance(v, str)]
    flash(error.message if isinstance(error, RuleViolation) or not details else "；".join(details), "danger")


def _labels():
    return {
        "rules": adjustments.RULE_LABELS,
        "components": adjustments.COMPONENT_LABELS,
        "states": adjustments.STATE_LABELS,
        "fundings": adjustments.FUNDING_LABELS,
        "table_modes": adjustments.TABLE_MODES,
        "yuan": fen_to_yuan,
    }


@bp.route("/adjustments")
@permission_required("pension.view")
def adjustments_index():
    actor = _actor()
    state = request.args.get("state") if request.args.get("state") in BATCH_STATES else None
    rows, next_before = adjustments.list_batches(actor=actor, state=state, before=positive_int(request.args, "before"))
    return render_template(
        "pension/adjust_index.html",
        rows=rows,
        next_before=next_before,
        state=state,
        units=adjustments.unit_names(rows),
        can_batch=actor.can("pension.batch"),
        **_labels(),
    )


@bp.route("/adjustments/new", methods=["GET", "POST"])
@permission_required("pension.batch")
def adjustment_new():
    actor = _actor()
    form = request.form
    if request.method == "POST":
        try:
            rule = form.get("rule")
            params = adjustments.parse_rule(
                rule,
                percent=form.get("percent"),
                amount=form.get("amount"),
                table=(form.get("table") or "")[:8000],
                table_mode=form.get("table_mode"),
            )
            batch = adjustments.create_batch(
                actor=actor,
                title=form.get("title"),
                doc_ref=form.get("doc_ref"),
                rule=rule,
                params=params,
                component=form.get("component"),
                effective_month=adjustments.parse_month(form.get("effective_month")),
                unit_id=positive_int(form, "unit_id") or actor.org_unit_id,
                unit_ids=form.getlist("unit_ids")[:100],
                categories=(form.get("categories") or "").replace("，", ",").split(",")[:60],
                funding=form.get("funding") or "central",
            )
            batch = adjust_preview.preview(actor=actor, batch_id=batch.id)
        except (RuleViolation, ValidationFailed) as error:
            _failed(error)
        else:
            flash(f"已生成调整预览：{batch.line_count} 人，须由另一位复核人员执行", "success")
            return redirect(url_for("pension.adjustment", batch_id=batch.id))
    return render_template(
        "pension/adjust_new.html",
        form=form,
        units=adjustments.units_for_form(actor),
        categories=adjustments.categories_in_scope(actor),
        own_unit=actor.org_unit_id,
        **_labels(),
    )


@bp.route("/adjustments/<id:batch_id>")
@permission_required("pension.view")
def adjustment(batch_id):
    actor = _actor()
    batch = adjustments.get_batch(actor=actor, batch_id=batch_id)
    lines, next_after = adjustments.lines_page(batch, after=positive_int(request.args, "after"))
    return render_template(
        "pension/adjust_detail.html",
        batch=batch,
        lines=lines,
        next_after=next_after,
        units=adjustments.unit_names([batch]),
        staff=_staff_names(batch),
        compensations=adjustments.compensations_of(batch.id),
        can_batch=actor.can("pension.batch"),
        can_approve=actor.can("pension.approve"),
        me=actor.id,
        **_labels(),
    )


def _staff_names(batch):
    from sqlalchemy import select

    from backend.extensions import db
    from backend.staff.models import Staff

    ids = [i for i in (batch.maker_id, batch.checker_id) if i]
    return dict(db.session.execute(select(Staff.id, Staff.full_name).where(Staff.id.in_(ids))).all())


def _step(batch_id, action, success):
    adjustments.get_batch(actor=_actor(), batch_id=batch_id)  # out of scope: 404 before any form check
    try:
        result = action()
    except (RuleViolation, ValidationFailed) as error:
        _failed(error)
        return redirect(url_for("pension.adjustment", batch_id=batch_id))
    flash(success, "success")
    return redirect(url_for("pension.adjustment", batch_id=getattr(result, "id", batch_id)))


@bp.route("/adjustments/<id:batch_id>/preview", methods=["POST"])
@permission_required("pension.batch")
def adjustment_preview(batch_id):
    action = lambda: adjust_preview.preview(actor=_actor(), batch_id=batch_id)  # noqa: E731
    return _step(batch_id, action, "已重新预览；您成为本批次的经办人，须由另一位复核人员执行")


@bp.route("/adjustments/<id:batch_id>/apply", methods=["GET", "POST"])
@permission_required("pension.approve")
def adjustment_apply(batch_id):
    actor = _actor()
    if request.method == "POST":
        action = lambda: adjust_preview.apply(actor=actor, batch_id=batch_id)  # noqa: E731
        return _step(batch_id, action, "已复核执行：调整金额自生效月份起计入发放")
    batch = adjustments.get_batch(actor=actor, batch_id=batch_id)
    return render_template(
        "pension/adjust_apply.html",
        batch=batch,
        units=adjustments.unit_names([batch]),
        staff=_staff_names(batch),
        me=actor.id,
        can_batch=actor.can("pension.batch"),
        **_labels(),
    )


@bp.route("/adjustments/<id:batch_id>/cancel", methods=["POST"])
@permission_required("pension.batch")
def adjustment_cancel(batch_id):
    action = lambda: adjustments.cancel(actor=_actor(), batch_id=batch_id)  # noqa: E731
    return _step(batch_id, action, "已作废该调整批次，未改变任何人的金额")


@bp.route("/adjustments/<id:batch_id>/compensate", methods=["POST"])
@permission_required("pension.batch")
def adjustment_compensate(batch_id):
    actor = _actor()

    def act():
        made = adjustments.compensate(actor=actor, batch_id=batch_id, doc_ref=(request.form.get("doc_ref") or "")[:100])
        return adjust_preview.preview(actor=actor, batch_id=made.id)

    return _step(batch_id, act, "已生成冲正批次并预览，须由另一位复核人员执行")


@bp.route("/adjustments/<id:batch_id>/export", methods=["POST"])
@permission_required("pension.view")
def adjustment_export(batch_id):
    adjustments.get_batch(actor=_actor(), batch_id=batch_id)
    return start_export("pension_adjustment", {"batch": batch_id})
