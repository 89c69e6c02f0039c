"""Custody locations and their safety inspections: overdue first, a location's history, the inspection form."""

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from admin_portal.archives import bp
from admin_portal.archives.views import failed
from admin_portal.security import permission_required
from backend.archives import common, custody, inspections
from backend.archives.models import CHECKLIST
from backend.errors import RuleViolation, ValidationFailed
from backend.registration.windows import today_cst
from backend.veterans.queries import stations_in_scope
from backend.webutil import positive_int


def _actor():
    return current_user._get_current_object()


@bp.route("/locations")
@permission_required("archives.view")
def locations():
    actor = _actor()
    rows = inspections.list_locations(actor=actor, include_inactive=request.args.get("all") == "1")
    units = [actor.org_unit] + [s for s in stations_in_scope(actor) if s.id != actor.org_unit_id]
    return render_template(
        "archives/locations.html",
        rows=rows,
        unit_names=common.unit_names([loc.unit_id for loc, _ in rows]),
        units=units,
        today=today_cst(),
        can_manage=actor.can("archives.manage"),
    )


@bp.route("/locations/new", methods=["POST"])
@permission_required("archives.manage")
def location_new():
    try:
        location = custody.create_location(
            actor=_actor(),
            unit_id=positive_int(request.form, "unit"),
            name=request.form.get("name"),
            interval_days=request.form.get("interval_days"),
        )
    except (RuleViolation, ValidationFailed) as error:
        failed(error)
        return redirect(url_for("archives.locations"))
    flash("已新增存放地点", "success")
    return redirect(url_for("archives.location", location_id=location.id))


@bp.route("/locations/<id:location_id>")
@permission_required("archives.view")
def location(location_id):
    actor = _actor()
    found, rows, next_before = inspections.inspections_of(
        actor=actor, location_id=location_id, before=positive_int(request.args, "before")
    )
    return render_template(
        "archives/location.html",
        location=found,
        unit_name=common.unit_names([found.unit_id]).get(found.unit_id, ""),
        rows=rows,
        next_before=next_before,
        staff=common.staff_names([r.inspector_id for r in rows]),
        checks=common.CHECK_LABELS,
        overdue=found.active and found.next_due_on < today_cst(),
        can_manage=actor.can("archives.manage"),
    )


@bp.route("/locations/<id:location_id>/edit", methods=["POST"])
@permission_required("archives.manage")
def location_edit(location_id):
    common.get_location(actor=_actor(), location_id=location_id, permission="archives.manage")
    try:
        custody.update_location(
            actor=_actor(),
            location_id=location_id,
            interval_days=request.form.get("interval_days"),
            active=request.form.get("active") == "1",
        )
    except (RuleViolation, ValidationFailed) as error:
        failed(error)
    else:
        flash("已保存", "success")
    return redirect(url_for("archives.location", location_id=location_id))


@bp.route("/locations/<id:location_id>/inspect", methods=["GET", "POST"])
@permission_required("archives.manage")
def inspect(location_id):
    actor = _actor()
    found = common.get_location(actor=actor, location_id=location_id, permission="archives.manage")
    form = request.form if request.method == "POST" else {}
    if request.method == "POST":
        try:
            inspections.record_inspection(
                actor=actor,
                location_id=location_id,
                inspected_on=form.get("inspected_on"),
                checklist={key: form.get(f"check_{key}") for key in CHECKLIST},
                findings=form.get("findings"),
                fixes=form.get("fixes"),
                fixed_on=form.get("fixed_on"),
            )
        except (RuleViolation, ValidationFailed) as error:
            failed(error)
        else:
            flash("已登记安全检查", "success")
            return redirect(url_for("archives.location", location_id=location_id))
    return render_template(
        "archives/inspect.html",
        location=found,
        unit_name=common.unit_names([found.unit_id]).get(found.unit_id, ""),
        checks=common.CHECK_LABELS,
        form=form,
        today=today_cst(),
    )
