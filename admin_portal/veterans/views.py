"""退役军人: the registry pages. Views parse, call one service, render; scope lives in the services."""

from urllib.parse import quote

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_login import current_user

from admin_portal.archives.panel import veteran_parts as archives_parts  # issue 17: the archive's state
from admin_portal.care.views import veteran_parts as care_parts  # care slice (issue 16, C1): contact section
from admin_portal.education.panel import veteran_parts as education_parts  # issue 19: acknowledgements, sessions
from admin_portal.employment.panel import veteran_parts as employment_parts  # issue 19: employment, support, roles
from admin_portal.exports.launch import start_export
from admin_portal.forms import ConfirmForm, apply_error, parse_id
from admin_portal.honors.panel import veteran_parts as honors_parts  # issue 17: awards, invitations, chronicle
from admin_portal.onboarding.panel import veteran_parts as onboarding_parts  # issue 17: onboarding date, summary
from admin_portal.orgs.tree import unit_tree
from admin_portal.party.panel import veteran_parts as party_parts  # issue 19: membership, evaluations
from admin_portal.pension.panel import veteran_parts as pension_parts  # issue 18: pay, state, account (masked)
from admin_portal.security import accepts_upload, permission_required
from admin_portal.veterans.forms import ImportForm, MoveForm, VeteranEditForm, VeteranForm, unit_choices
from backend.accounts import service as accounts_service
from backend.bookings import blocks as booking_blocks  # bookings slice (issue 14)
from backend.errors import RuleViolation, ValidationFailed
from backend.notifications import reports as notification_reports  # notifications slice (issue 13)
from backend.notifications import tags as veteran_tags
from backend.notifications.kinds import DELIVERY_STATUS_LABELS, RESULT_LABELS, SKIP_REASON_LABELS
from backend.veterans import import_files, importer, queries
from backend.veterans import service as veterans_service
from backend.veterans import timeline as veteran_timeline
from backend.veterans.models import STATUS_LABELS
from backend.webutil import link_args

bp = Blueprint("veterans", __name__)


def _actor():
    return current_user._get_current_object()


def _fill_unit_choices(form):
    actor = _actor()
    form.station_id.choices = unit_choices(queries.stations_in_scope(actor))
    grids = queries.grids_in_scope(actor)
    form.grid_id.choices = unit_choices(grids, blank="（不指定网格）", label=lambda g: f"{g.parent.name} / {g.name}")


def _int_arg(name):
    return request.args.get(name, type=int)


@bp.route("/")
@permission_required("veterans.view")
def index():
    actor = _actor()
    filters = queries.VeteranFilter(
        unit_id=_int_arg("unit"),
        grid_id=_int_arg("grid"),
        status=request.args.get("status") or None,
        name=(request.args.get("name") or "").strip()[:64] or None,
        id_index=(request.args.get("idx") or "").strip()[:80] or None,
    )
    search_error = None
    try:
        page = queries.list_veterans(actor=actor, filters=filters, after=_int_arg("after"), before=_int_arg("before"))
        total = queries.estimate_count(actor=actor, filters=filters)
    except ValidationFailed as error:
        search_error, page, total = "；".join(error.details.values()) or error.message, queries.Page([], None, None), 0
    args = link_args("after", "before")
    return render_template(
        "veterans/index.html",
        page=page,
        total=total,
        filters=filters,
        args=args,
        search_error=search_error,
        tree=unit_tree(actor, filters.unit_id),
        grids=queries.grids_in_scope(actor, station_id=filters.unit_id) if filters.unit_id else [],
        statuses=STATUS_LABELS,
        can_edit=actor.can("veterans.edit"),
        can_import=actor.can("veterans.import"),
    )


@bp.route("/export", methods=["POST"])
@permission_required("veterans.view")
def export():
    """exports slice (issue 12): queue the roster's export (unit, grid, status as form fields); go to 我的导出."""
    return start_export("veterans", {k: request.form.get(k) for k in ("unit", "grid", "status")})


@bp.route("/search", methods=["POST"])
@permission_required("veterans.view")
def search():
    """Search by full ID number: POSTed, then redirected with its HMAC, so the number stays out of URLs and logs."""
    args = {k: v for k, v in request.form.items() if k in ("unit", "grid", "status", "name") and v}
    try:
        args["idx"] = queries.search_index(request.form.get("id_number", "")[:20])
    except ValidationFailed as error:
        flash("；".join(error.details.values()) or error.message, "warning")
    return redirect(url_for("veterans.index", **args))


@bp.route("/new", methods=["GET", "POST"])
@permission_required("veterans.edit")
def create():
    form = VeteranForm()
    _fill_unit_choices(form)
    if form.validate_on_submit():
        try:
            veteran = veterans_service.create_veteran(
                actor=_actor(),
                station_id=parse_id(form.station_id.data),
                grid_id=parse_id(form.grid_id.data) or None,
                **_fields(form),
            )
        except (ValidationFailed, RuleViolation) as error:
            apply_error(form, error)
        else:
            flash(f"已登记：{veteran.name}", "success")
            return redirect(url_for("veterans.detail", veteran_id=veteran.id))
    return render_template("veterans/form.html", form=form, veteran=None), 422 if form.errors else 200


def _fields(form):
    keys = ("name", "id_number", "phone", "address", "grid_worker", "placement_date", "party_member", "status")
    return {k: getattr(form, k).data for k in keys}


@bp.route("/<id:veteran_id>")
@permission_required("veterans.view")
def detail(veteran_id, revealed=None, move_form=None, status=200):
    actor = _actor()
    veteran = veterans_service.get_veteran(actor=actor, veteran_id=veteran_id)
    if move_form is None:
        move_form = MoveForm(data={"station_id": str(veteran.station_id), "grid_id": str(veteran.grid_id or "")})
    _fill_unit_choices(move_form)
    return render_template(
        "veterans/detail.html",
        veteran=veteran,
        revealed=revealed,
        history=veteran_timeline.history_entries(veterans_service.list_history(actor=actor, veteran_id=veteran.id)),
        registrations=veteran_timeline.registrations_of(actor=actor, veteran=veteran),
        trips=veteran_timeline.trips_of(actor=actor, veteran=veteran),
        move_form=move_form,
        confirm=ConfirmForm(),
        can_edit=actor.can("veterans.edit"),
        can_reveal=actor.can("veterans.reveal"),
        wechat_account=accounts_service.find_account_of(veteran.id),
        can_enter_registration=actor.can("registration.enter"),
        can_record_travel=actor.can("travel.record"),
        **_notification_parts(veteran),
        booking_block=booking_blocks.active_block(veteran.id),  # bookings slice (issue 14): no-show block
        can_lift_block=actor.can("bookings.counter"),
        **care_parts(actor, veteran),  # care slice (issue 16, C1): 常态化联系
        **onboarding_parts(actor, veteran),  # issue 17: key "onboarding_panel"
        **archives_parts(actor, veteran),  # issue 17: key "archives_panel"
        **honors_parts(actor, veteran),  # issue 17: key "honors_panel"
        **pension_parts(actor, veteran),  # issue 18: key "pension_panel"
        **party_parts(actor, veteran),  # issue 19: key "party_panel"
        **employment_parts(actor, veteran),  # issue 19: key "employment_panel"
        **education_parts(actor, veteran),  # issue 19: key "education_panel"
    ), status


def _notification_parts(veteran):
    """notifications slice (issue 13): the delivery history (newest first, keyset "更多") and the tags."""
    deliveries, more = notification_reports.veteran_history(veteran_id=veteran.id, before=_int_arg("deliveries_before"))
    return {
        "deliveries": deliveries,
        "deliveries_more": more,
        "delivery_labels": {"status": DELIVERY_STATUS_LABELS, "skip": SKIP_REASON_LABELS, "result": RESULT_LABELS},
        "tags": veteran_tags.list_tags(veteran.id),
    }


@bp.route("/<id:veteran_id>/tags", methods=["POST"])
@permission_required("veterans.edit")
def set_tags(veteran_id):
    """notifications slice (issue 13): replace the veteran's tags (one field, separated by commas or spaces)."""
    try:
        veteran_tags.set_tags(
            actor=_actor(), veteran_id=veteran_id, tags=veteran_tags.parse_tags(request.form.get("tags", "")[:400])
        )
    except ValidationFailed as error:
        flash("；".join(map(str, error.details.values())) or error.message, "danger")
    else:
        flash("标签已保存", "success")
    return redirect(url_for("veterans.detail", veteran_id=veteran_id))


@bp.route("/<id:veteran_id>/timeline")
@permission_required("veterans.view")
def timeline(veteran_id):
    """lists slice (issue 11): one timeline of the record, its registrations and its trips."""
    veteran, entries = veteran_timeline.veteran_timeline(actor=_actor(), veteran_id=veteran_id)
    return render_template("veterans/timeline.html", veteran=veteran, entries=entries)


@bp.route("/<id:veteran_id>/unbind", methods=["POST"])
@permission_required("veterans.edit")
def unbind(veteran_id):
    ConfirmForm().validate_on_submit()
    accounts_service.unbind(actor=_actor(), veteran_id=veteran_id)
    flash("已解除微信绑定，该微信账号需重新绑定身份", "success")
    return redirect(url_for("veterans.detail", veteran_id=veteran_id))


@bp.route("/<id:veteran_id>/reveal", methods=["POST"])
@permission_required("veterans.reveal")
def reveal(veteran_id):
    ConfirmForm().validate_on_submit()
    revealed = veterans_service.reveal_veteran(actor=_actor(), veteran_id=veteran_id)
    return detail(veteran_id, revealed=revealed)


@bp.route("/<id:veteran_id>/edit", methods=["GET", "POST"])
@permission_required("veterans.edit")
def edit(veteran_id):
    veteran = veterans_service.get_veteran(actor=_actor(), veteran_id=veteran_id, permission="veterans.edit")
    form = VeteranEditForm(obj=veteran) if request.method == "GET" else VeteranEditForm()
    if request.method == "GET":
        form.id_number.data, form.phone.data = "", ""
    form.id_number.render_kw = {"placeholder": veteran.id_number_masked}
    form.phone.render_kw = {"placeholder": veteran.phone_masked or "未登记"}
    if form.validate_on_submit():
        fields = {k: v for k, v in _fields(form).items() if k not in ("id_number", "phone") or v}
        try:
            veterans_service.update_veteran(actor=_actor(), veteran_id=veteran.id, **fields)
        except (ValidationFailed, RuleViolation) as error:
            apply_error(form, error)
        else:
            flash("已保存", "success")
            return redirect(url_for("veterans.detail", veteran_id=veteran.id))
    return render_template("veterans/form.html", form=form, veteran=veteran), 422 if form.errors else 200


@bp.route("/<id:veteran_id>/move", methods=["POST"])
@permission_required("veterans.edit")
def move(veteran_id):
    form = MoveForm()
    if form.validate_on_submit():
        try:
            veterans_service.move_veteran(
                actor=_actor(),
                veteran_id=veteran_id,
                station_id=parse_id(form.station_id.data),
                grid_id=parse_id(form.grid_id.data) or None,
            )
        except ValidationFailed as error:
            apply_error(form, error)
        else:
            flash("已调整所属服务站和网格", "success")
            return redirect(url_for("veterans.detail", veteran_id=veteran_id))
    return detail(veteran_id, move_form=form, status=422)


@bp.route("/import", methods=["GET", "POST"])
@accepts_upload(importer.MAX_BYTES)
@permission_required("veterans.import")
def import_sheet():
    form = ImportForm()
    if form.validate_on_submit():
        upload = form.file.data
        try:
            job = importer.start_import(actor=_actor(), filename=upload.filename, content=upload.read())
        except ValidationFailed as error:
            apply_error(
                form, ValidationFailed(error.message, details={"file": error.details.get("file", error.message)})
            )
        else:
            return redirect(url_for("veterans.import_status", job_id=job.id))
    jobs = importer.recent_imports(actor=_actor())
    status = 422 if form.errors else 200
    return render_template("veterans/import.html", form=form, headers=importer.HEADERS, jobs=jobs), status


@bp.route("/import/<id:job_id>")
@permission_required("veterans.import")
def import_status(job_id):
    job = importer.get_import(actor=_actor(), job_id=job_id)
    template = "veterans/_import_progress.html" if request.headers.get("HX-Request") else "veterans/import_status.html"
    return render_template(template, job=job, rejects=import_files.rejects_state(job))


# import slice (issue 11): the template and the rejected rows, both .xlsx written by backend/exports.py
def _xlsx(content, ascii_name, name):
    """An .xlsx attachment named `name`, with an ASCII fallback for old clients (RFC 6266 filename*)."""
    disposition = f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}"
    return Response(
        content,
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": disposition, "Cache-Control": "no-store"},
    )


@bp.route("/import/template.xlsx")
@permission_required("veterans.import")
def import_template():
    return _xlsx(import_files.template_bytes(actor=_actor()), "veterans-import-template.xlsx", "退役军人导入模板.xlsx")


@bp.route("/import/<id:job_id>/rejected.xlsx")
@permission_required("veterans.import")
def import_rejected(job_id):
    content = import_files.rejected_rows_bytes(actor=_actor(), job_id=job_id)
    return _xlsx(content, f"import-{job_id}-rejected.xlsx", f"未导入的行-{job_id}.xlsx")


@bp.route("/coverage")
@permission_required("veterans.view")
def coverage():
    own, children = queries.coverage(actor=_actor(), unit_id=_int_arg("unit"))
    return render_template("veterans/coverage.html", own=own, children=children, tree=unit_tree(_actor(), own.unit.id))
