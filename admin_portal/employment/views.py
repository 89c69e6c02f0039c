"""就业创业 (Art. 13, 18): figures per unit, the unemployed without recent support, and a veteran's status history,
support given and civic roles. Thin: the rules and the transaction live in backend/employment."""

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from admin_portal.employment import bp
from admin_portal.security import permission_required
from backend.employment import figures
from backend.employment import service as employment
from backend.employment.models import SUPPORT_KINDS, CivicRole, EmploymentSupport
from backend.errors import ValidationFailed
from backend.extensions import db
from backend.registration.windows import today_cst
from backend.webutil import link_args, positive_int

LABELS = {
    "statuses": employment.STATUS_LABELS,
    "support_kinds": employment.SUPPORT_LABELS,
    "outcomes": employment.OUTCOME_LABELS,
    "areas": employment.AREA_LABELS,
}


def _actor():
    return current_user._get_current_object()


def _failed(error):
    details = [v for v in (error.details or {}).values() if isinstance(v, str)]
    flash(error.message if not details else "；".join(details), "danger")


def _back(veteran_id):
    return redirect(url_for("employment.veteran", veteran_id=veteran_id))


@bp.get("/")
@permission_required("employment.view")
def index():
    actor = _actor()
    year = today_cst().year
    unit, rows, total = figures.unit_figures(
        actor=actor, unit_id=positive_int(request.args, "unit") or actor.org_unit_id, year=year
    )
    return render_template(
        "employment/index.html", unit=unit, rows=rows, total=total, year=year, kinds=SUPPORT_KINDS, **LABELS
    )


@bp.get("/unemployed")
@permission_required("employment.view")
def unemployed():
    rows, next_after = figures.list_unemployed_without_support(
        actor=_actor(), today=today_cst(), after=positive_int(request.args, "after")
    )
    return render_template(
        "employment/unemployed.html", rows=rows, next_after=next_after, args=link_args("after"), **LABELS
    )


@bp.get("/veterans/<id:veteran_id>")
@permission_required("employment.view")
def veteran(veteran_id):
    actor = _actor()
    vet = employment.get_veteran(actor=actor, veteran_id=veteran_id)
    records = employment.history(vet.id)
    return render_template(
        "employment/veteran.html",
        veteran=vet,
        current=next((r for r in records if r.until is None), None),
        records=records,
        phones={r.id: employment.masked_liaison_phone(r) for r in records},
        supports=employment.supports_of(vet.id),
        roles=employment.roles_of(vet.id),
        can_manage=actor.can("employment.manage"),
        today=today_cst(),
        **LABELS,
    )


@bp.post("/veterans/<id:veteran_id>/status")
@permission_required("employment.manage")
def set_status(veteran_id):
    form = request.form
    try:
        employment.set_status(
            actor=_actor(),
            veteran_id=veteran_id,
            status=form.get("status"),
            employer=form.get("employer"),
            position=form.get("position"),
            since=form.get("since"),
            wishes=form.get("wishes"),
            liaison_name=form.get("liaison_name"),
            liaison_phone=form.get("liaison_phone"),
        )
    except ValidationFailed as error:
        _failed(error)
    else:
        flash("已登记就业状况", "success")
    return _back(veteran_id)


@bp.post("/veterans/<id:veteran_id>/supports")
@permission_required("employment.manage")
def record_support(veteran_id):
    form = request.form
    try:
        employment.record_support(
            actor=_actor(),
            veteran_id=veteran_id,
            kind=form.get("kind"),
            given_on=form.get("given_on"),
            detail=form.get("detail"),
            amount=form.get("amount"),
        )
    except ValidationFailed as error:
        _failed(error)
    else:
        flash("已登记扶持", "success")
    return _back(veteran_id)


@bp.post("/supports/<id:support_id>/outcome")
@permission_required("employment.manage")
def set_outcome(support_id):
    form = request.form
    try:
        support = employment.set_outcome(
            actor=_actor(), support_id=support_id, outcome=form.get("outcome"), note=form.get("note")
        )
    except ValidationFailed as error:
        _failed(error)
        return _back(employment.owner_of(actor=_actor(), model=EmploymentSupport, object_id=support_id))
    flash("已更新扶持结果", "success")
    return _back(support.veteran_id)


@bp.post("/veterans/<id:veteran_id>/roles")
@permission_required("employment.manage")
def record_role(veteran_id):
    form = request.form
    try:
        employment.record_role(
            actor=_actor(),
            veteran_id=veteran_id,
            area=form.get("area"),
            title=form.get("title"),
            organisation=form.get("organisation"),
            since=form.get("since"),
            until=form.get("until"),
        )
    except ValidationFailed as error:
        _failed(error)
    else:
        flash("已登记社会角色", "success")
    return _back(veteran_id)


@bp.post("/roles/<id:role_id>/activities")
@permission_required("employment.manage")
def record_activity(role_id):
    form = request.form
    try:
        activity = employment.record_activity(
            actor=_actor(),
            role_id=role_id,
            held_on=form.get("held_on"),
            title=form.get("title"),
            hours=form.get("hours"),
            note=form.get("note"),
        )
    except ValidationFailed as error:
        _failed(error)
        return _back(employment.owner_of(actor=_actor(), model=CivicRole, object_id=role_id))
    flash("已登记活动", "success")
    return _back(db.session.get(CivicRole, activity.role_id).veteran_id)
