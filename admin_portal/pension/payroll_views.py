"""发放名册: monthly payroll runs (start, progress, exceptions, lines, confirm), the bank file, return files and the
follow-up list of failed payments. Thin views over backend/pension/{payroll,bank_files,returns}.py."""

from urllib.parse import quote

from flask import Response, flash, redirect, render_template, request, url_for
from flask_login import current_user

from admin_portal.pension import bp
from admin_portal.security import accepts_upload, permission_required
from backend.errors import NotFound, RuleViolation, ValidationFailed
from backend.funding.figures import picker_units
from backend.pension import bank_files, payroll, returns
from backend.pension.money import fen_to_yuan
from backend.registration.windows import today_cst
from backend.webutil import positive_int

MIMETYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv",
    "txt": "text/plain",
}


def _actor():
    return current_user._get_current_object()


def _failed(error):
    details = [v for v in (error.details or {}).values() if isinstance(v, str)]
    flash("；".join(details) if details and not isinstance(error, RuleViolation) else error.message, "danger")


@bp.route("/payroll", methods=["GET", "POST"])
@permission_required("pension.view")
def payroll_index():
    actor = _actor()
    if request.method == "POST":
        try:
            run = payroll.start_run(
                actor=actor, unit_id=positive_int(request.form, "unit"), month=(request.form.get("month") or "")[:7]
            )
        except (RuleViolation, ValidationFailed) as error:
            _failed(error)
        else:
            flash(f"已开始编制发放名册 {run.number}，计算完成后请由另一位复核人员确认", "success")
            return redirect(url_for("pension.payroll_run", run_id=run.id))
    runs, next_before = payroll.list_runs(actor=actor, before=positive_int(request.args, "before"))
    return render_template(
        "pension/payroll_index.html",
        runs=runs,
        next_before=next_before,
        units={u.id: u for u in picker_units(actor)},
        this_month=f"{today_cst():%Y-%m}",
        states=payroll.STATE_LABELS,
        yuan=fen_to_yuan,
        can_start=actor.can("pension.batch"),
    )


def _progress(run):
    return {"percent": int(run.processed_rows * 100 / run.total_rows) if run.total_rows else 0}


@bp.route("/payroll/<id:run_id>")
@permission_required("pension.view")
def payroll_run(run_id):
    actor = _actor()
    run = payroll.get_run(actor=actor, run_id=run_id)
    if request.headers.get("HX-Request"):
        return render_template("pension/payroll_progress.html", run=run, progress=_progress(run))
    done = run.state in ("ready", "confirmed")
    exceptions, next_exception = payroll.lines(run, after=positive_int(request.args, "xafter"), exceptions_only=True)
    lines, next_after = payroll.lines(run, after=positive_int(request.args, "after"))
    return render_template(
        "pension/payroll_run.html",
        run=run,
        progress=_progress(run),
        done=done,
        totals=payroll.totals(run) if done else None,
        counts=payroll.exception_counts(run) if done else {},
        exceptions=exceptions,
        next_exception=next_exception,
        lines=lines,
        next_after=next_after,
        names=payroll.veteran_names([*exceptions, *lines]),
        labels=payroll.EXCEPTION_LABELS,
        states=payroll.STATE_LABELS,
        statuses=payroll.STATUS_LABELS,
        yuan=fen_to_yuan,
        can_batch=actor.can("pension.batch"),
        can_approve=actor.can("pension.approve"),
        me=actor.id,
    )


@bp.route("/payroll/<id:run_id>/bank")
@permission_required("pension.view")
def payroll_bank(run_id):
    actor = _actor()
    run = payroll.get_run(actor=actor, run_id=run_id)
    return render_template(
        "pension/payroll_bank.html",
        run=run,
        states=payroll.STATE_LABELS,
        layouts=[layout for layout in bank_files.list_layouts(actor=actor) if layout.active],
        formats=bank_files.FORMAT_LABELS,
        imports=returns.returns_of(run),
        yuan=fen_to_yuan,
        can_batch=actor.can("pension.batch"),
        can_approve=actor.can("pension.approve"),
    )


def _step(run_id, action, success, page="pension.payroll_run"):
    payroll.get_run(actor=_actor(), run_id=run_id)  # out of scope: 404 before anything else
    try:
        result = action()
    except (RuleViolation, ValidationFailed) as error:
        _failed(error)
    else:
        flash(success(result) if callable(success) else success, "success")
    return redirect(url_for(page, run_id=run_id))


@bp.route("/payroll/<id:run_id>/confirm", methods=["POST"])
@permission_required("pension.approve")
def payroll_confirm(run_id):
    action = lambda: payroll.confirm_run(actor=_actor(), run_id=run_id)  # noqa: E731
    return _step(run_id, action, "发放名册已确认，可以导出银行发放文件")


@bp.route("/payroll/<id:run_id>/cancel", methods=["POST"])
@permission_required("pension.batch")
def payroll_cancel(run_id):
    action = lambda: payroll.cancel_run(actor=_actor(), run_id=run_id)  # noqa: E731
    return _step(run_id, action, "发放名册已作废（编号不再使用），可重新编制")


@bp.route("/payroll/<id:run_id>/export", methods=["POST"])
@permission_required("pension.view")
def payroll_export(run_id):
    try:
        out, name, sha = bank_files.export(
            actor=_actor(), run_id=run_id, layout_id=positive_int(request.form, "layout")
        )
    except (RuleViolation, NotFound) as error:
        if isinstance(error, payroll.RunNotFound):
            raise
        _failed(error)
        return redirect(url_for("pension.payroll_bank", run_id=run_id))

    def stream():
        try:
            while chunk := out.read(1 << 16):
                yield chunk
        finally:
            out.close()

    extension = name.rsplit(".", 1)[-1]
    disposition = f"attachment; filename=\"payroll.{extension}\"; filename*=UTF-8''{quote(name)}"
    return Response(
        stream(),
        mimetype=MIMETYPES[extension],
        headers={"Content-Disposition": disposition, "Cache-Control": "no-store", "X-Content-SHA256": sha},
    )


@bp.route("/payroll/<id:run_id>/returns", methods=["POST"])
@accepts_upload(returns.MAX_BYTES)
@permission_required("pension.batch")
def payroll_return(run_id):
    upload = request.files.get("file")

    def act():
        if upload is None:
            raise returns.ReturnInvalid()
        return returns.import_return(
            actor=_actor(), run_id=run_id, filename=upload.filename, content=upload.read(returns.MAX_BYTES + 1)
        )

    def done(result):
        record, duplicate = result
        if duplicate:
            return f"该回盘文件已于 {record.imported_at:%Y-%m-%d %H:%M} 导入过，未重复处理"
        counts = f"成功 {record.paid_count} 笔，失败 {record.failed_count} 笔，未能处理 {len(record.rejected)} 行"
        return f"回盘已导入：{counts}"

    return _step(run_id, act, done, page="pension.payroll_bank")


@bp.route("/payroll/failures")
@permission_required("pension.view")
def payroll_failures():
    actor = _actor()
    rows, next_after = returns.list_failures(actor=actor, after=positive_int(request.args, "after"))
    return render_template(
        "pension/payroll_failures.html",
        rows=rows,
        next_after=next_after,
        names=payroll.veteran_names([r[0] for r in rows]),
        yuan=fen_to_yuan,
        can_fix=actor.can("pension.batch"),
    )


@bp.route("/payroll/failures/<id:line_id>/fixed", methods=["POST"])
@permission_required("pension.batch")
def payroll_failure_fixed(line_id):
    try:
        returns.mark_fixed(actor=_actor(), line_id=line_id)
    except RuleViolation as error:
        _failed(error)
    else:
        flash("已标记处理，该笔将在下月发放名册中补发", "success")
    return redirect(url_for("pension.payroll_failures"))
