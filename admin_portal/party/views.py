"""党员管理 (Art. 6): figures per unit, the members list, branches, and a veteran's membership, transfers and yearly
evaluations. Thin: the rules and the transaction live in backend/party."""

from urllib.parse import quote

from flask import Response, flash, redirect, render_template, request, url_for
from flask_login import current_user

from admin_portal.party import bp
from admin_portal.security import accepts_upload, permission_required
from backend.errors import RuleViolation, ValidationFailed
from backend.orgs.scope import scoped
from backend.party import evaluations, figures
from backend.party import service as party
from backend.party.models import MEMBERSHIP
from backend.registration.windows import today_cst
from backend.webutil import link_args, positive_int

LABELS = {
    "statuses": party.STATUS_LABELS,
    "directions": party.DIRECTION_LABELS,
    "states": party.STATE_LABELS,
    "ratings": evaluations.RATING_LABELS,
    "overall_labels": evaluations.OVERALL_LABELS,
}


def _actor():
    return current_user._get_current_object()


def _failed(error):
    details = [v for v in (error.details or {}).values() if isinstance(v, str)]
    flash(error.message if isinstance(error, RuleViolation) or not details else "；".join(details), "danger")


def _units_for_branches(actor):
    from sqlalchemy import select

    from backend.extensions import db
    from backend.orgs.models import OrgUnit

    query = scoped(select(OrgUnit).where(OrgUnit.level.in_(party.BRANCH_LEVELS)), actor, OrgUnit.id)
    return db.session.scalars(query.order_by(OrgUnit.path).limit(500)).all()


@bp.get("/")
@permission_required("party.view")
def index():
    actor = _actor()
    year = today_cst().year
    unit, rows, total = figures.unit_figures(
        actor=actor, unit_id=positive_int(request.args, "unit") or actor.org_unit_id, year=year
    )
    return render_template("party/index.html", unit=unit, rows=rows, total=total, year=year)


@bp.get("/members")
@permission_required("party.view")
def members():
    actor = _actor()
    status = request.args.get("status") if request.args.get("status") in MEMBERSHIP else None
    branch_id = positive_int(request.args, "branch")
    missing = request.args.get("missing") == "1"
    rows, next_after = figures.list_members(
        actor=actor,
        unit_id=positive_int(request.args, "unit"),
        branch_id=branch_id,
        status=status,
        missing_year=today_cst().year if missing else None,
        after=positive_int(request.args, "after"),
    )
    branches, _ = party.list_branches(actor=actor, limit=500)
    return render_template(
        "party/members.html",
        rows=rows,
        next_after=next_after,
        branches=branches,
        branch_names=party.branch_names(m.branch_id for m, _ in rows),
        branch_id=branch_id,
        status=status,
        missing=missing,
        args=link_args("after"),
        **LABELS,
    )


@bp.get("/branches")
@permission_required("party.view")
def branches():
    actor = _actor()
    rows, next_after = party.list_branches(
        actor=actor, unit_id=positive_int(request.args, "unit"), after=positive_int(request.args, "after")
    )
    units = _units_for_branches(actor)
    return render_template(
        "party/branches.html",
        rows=rows,
        next_after=next_after,
        units=units,
        unit_names={u.id: u.name for u in units},
        can_manage=actor.can("party.manage"),
        args=link_args("after"),
    )


@bp.post("/branches")
@permission_required("party.manage")
def create_branch():
    try:
        branch = party.create_branch(
            actor=_actor(),
            unit_id=positive_int(request.form, "unit"),
            name=request.form.get("name"),
            secretary=request.form.get("secretary"),
        )
    except (RuleViolation, ValidationFailed) as error:
        _failed(error)
    else:
        flash(f"已登记党组织：{branch.name}", "success")
    return redirect(url_for("party.branches"))


@bp.post("/branches/<id:branch_id>/deactivate")
@permission_required("party.manage")
def deactivate_branch(branch_id):
    branch = party.deactivate_branch(actor=_actor(), branch_id=branch_id)
    flash(f"已停用党组织：{branch.name}", "success")
    return redirect(url_for("party.branches"))


@bp.get("/veterans/<id:veteran_id>")
@permission_required("party.view")
def veteran(veteran_id):
    actor = _actor()
    vet = party.get_veteran(actor=actor, veteran_id=veteran_id)
    membership = party.membership_of(vet.id)
    transfers = party.transfers_of(vet.id)
    evals = evaluations.evaluations_of(vet.id)
    choices = party.branches_for_veteran(vet)
    names = party.branch_names(
        [membership.branch_id if membership else None] + [t.branch_id for t in transfers] + [e.branch_id for e in evals]
    )
    return render_template(
        "party/veteran.html",
        veteran=vet,
        membership=membership,
        transfers=transfers,
        evaluations=evals,
        choices=choices,
        branch_names=names,
        can_manage=actor.can("party.manage"),
        today=today_cst(),
        **LABELS,
    )


def _step(veteran_id, action, success):
    party.get_veteran(actor=_actor(), veteran_id=veteran_id)  # out of scope: 404 before any form check
    try:
        result = action()
    except (RuleViolation, ValidationFailed) as error:
        _failed(error)
    else:
        flash(success(result) if callable(success) else success, "success")
    return redirect(url_for("party.veteran", veteran_id=veteran_id))


@bp.post("/veterans/<id:veteran_id>/membership")
@permission_required("party.manage")
def set_membership(veteran_id):
    def act():
        return party.set_membership(
            actor=_actor(),
            veteran_id=veteran_id,
            status=request.form.get("status"),
            branch_id=positive_int(request.form, "branch"),
            joined_on=party.parse_date(request.form.get("joined_on"), "joined_on", required=False),
        )

    return _step(veteran_id, act, "已保存党员信息")


@bp.post("/veterans/<id:veteran_id>/membership/remove")
@permission_required("party.manage")
def remove_membership(veteran_id):
    return _step(veteran_id, lambda: party.remove_membership(actor=_actor(), veteran_id=veteran_id), "已登记为非党员")


@bp.post("/veterans/<id:veteran_id>/transfers")
@permission_required("party.manage")
def record_transfer(veteran_id):
    def act():
        return party.record_transfer(
            actor=_actor(),
            veteran_id=veteran_id,
            direction=request.form.get("direction"),
            counterpart=request.form.get("counterpart"),
            started_on=party.parse_date(request.form.get("started_on"), "started_on"),
            letter_number=request.form.get("letter_number"),
            branch_id=positive_int(request.form, "branch"),
            note=request.form.get("note"),
        )

    return _step(veteran_id, act, "已登记组织关系转接")


def _transfer_step(transfer_id, action, success):
    transfer = party.get_transfer(actor=_actor(), transfer_id=transfer_id)  # out of scope: 404
    try:
        action()
    except (RuleViolation, ValidationFailed) as error:
        _failed(error)
    else:
        flash(success, "success")
    return redirect(url_for("party.veteran", veteran_id=transfer.veteran_id))


@bp.post("/transfers/<id:transfer_id>/complete")
@permission_required("party.manage")
def complete_transfer(transfer_id):
    def act():
        completed_on = party.parse_date(request.form.get("completed_on"), "completed_on")
        return party.complete_transfer(actor=_actor(), transfer_id=transfer_id, completed_on=completed_on)

    return _transfer_step(transfer_id, act, "转接已办结")


@bp.post("/transfers/<id:transfer_id>/cancel")
@permission_required("party.manage")
def cancel_transfer(transfer_id):
    return _transfer_step(
        transfer_id, lambda: party.cancel_transfer(actor=_actor(), transfer_id=transfer_id), "转接已取消"
    )


@bp.post("/veterans/<id:veteran_id>/evaluations")
@accepts_upload(evaluations.uploads.MAX_BYTES)
@permission_required("party.manage")
def record_evaluation(veteran_id):
    def act():
        upload = request.files.get("document")
        return evaluations.record_evaluation(
            actor=_actor(),
            veteran_id=veteran_id,
            year=positive_int(request.form, "year"),
            life=request.form.get("life"),
            dues=request.form.get("dues"),
            conduct=request.form.get("conduct"),
            overall=request.form.get("overall"),
            opinion=(request.form.get("opinion") or "")[:4000],
            filename=upload.filename if upload else None,
            data=upload.read(evaluations.uploads.MAX_BYTES + 1) if upload else None,
        )

    return _step(veteran_id, act, lambda e: f"已登记 {e.year} 年度评定意见")


@bp.get("/evaluations/<id:evaluation_id>/document")
@permission_required("party.view")
def evaluation_document(evaluation_id):
    data, content_type, name = evaluations.open_document(actor=_actor(), evaluation_id=evaluation_id)
    response = Response(data, mimetype=content_type)
    response.headers["Content-Disposition"] = f"attachment; filename=\"document\"; filename*=UTF-8''{quote(name)}"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
