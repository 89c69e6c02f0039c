"""人事档案: the register in scope, intake with the item list, one archive (items, scans, requests, transfer out) and
the watermarked view of a scan. Requests and the log: request_views.py; locations and inspections: location_views.py.
"""

from urllib.parse import quote

from flask import Response, flash, redirect, render_template, request, url_for
from flask_login import current_user

from admin_portal.archives import bp
from admin_portal.security import accepts_upload, permission_required
from backend.archives import common, custody, files
from backend.archives import requests as archive_requests
from backend.archives.models import ARCHIVE_STATES, ArchiveLocation
from backend.errors import RuleViolation, ValidationFailed
from backend.extensions import db
from backend.orgs.models import OrgUnit
from backend.registration.windows import today_cst
from backend.veterans.models import Veteran
from backend.webutil import link_args, positive_int

ROWS = 5  # blank item rows on the intake form (more by pasting lines)


def _actor():
    return current_user._get_current_object()


def failed(error):
    details = [v for v in (error.details or {}).values() if isinstance(v, str)]
    flash(error.message if isinstance(error, RuleViolation) or not details else "；".join(details), "danger")


def form_rows(form, count):
    """The intake form's item rows as dicts."""
    return [
        {
            "seq": form.get(f"seq{n}", ""),
            "title": form.get(f"title{n}", ""),
            "pages": form.get(f"pages{n}", ""),
            "checked": form.get(f"checked{n}") == "1",
            "note": form.get(f"note{n}", ""),
        }
        for n in range(1, count + 1)
    ]


@bp.route("/")
@permission_required("archives.view")
def index():
    actor = _actor()
    state = request.args.get("state") if request.args.get("state") in ARCHIVE_STATES else None
    location_id = positive_int(request.args, "location")
    name = (request.args.get("name") or "").strip()[:64]
    rows, next_before = custody.list_archives(
        actor=actor, state=state, location_id=location_id, name=name, before=positive_int(request.args, "before")
    )
    locations = custody.active_locations(actor)
    return render_template(
        "archives/index.html",
        rows=rows,
        next_before=next_before,
        state=state,
        location_id=location_id,
        name=name,
        locations=locations,
        location_names={loc.id: loc.name for loc in locations},
        stations=common.unit_names([a.station_id for a, _ in rows]),
        states=common.STATE_LABELS,
        args=link_args("before"),
        can_manage=actor.can("archives.manage"),
    )


@bp.route("/intake", methods=["GET", "POST"])
@permission_required("archives.manage")
def intake():
    actor = _actor()
    source = request.form if request.method == "POST" else request.args
    query = (source.get("q") or "").strip()[:64]
    veteran_id = positive_int(source, "veteran")
    if request.method == "POST" and not query:
        try:
            archive = custody.intake(
                actor=actor,
                veteran_id=veteran_id,
                received_on=source.get("received_on"),
                received_from=source.get("received_from"),
                location_id=positive_int(source, "location"),
                cabinet=source.get("cabinet"),
                shelf=source.get("shelf"),
                note=source.get("note"),
                lines=(source.get("lines") or "")[:20000],
                rows=form_rows(source, ROWS),
            )
        except (RuleViolation, ValidationFailed) as error:
            failed(error)
        else:
            flash("档案已入档", "success")
            return redirect(url_for("archives.detail", archive_id=archive.id))
    veteran = locations = None
    if veteran_id:
        from backend.orgs.scope import get_scoped
        from backend.veterans.service import VeteranNotFound

        veteran = get_scoped(Veteran, veteran_id, actor=actor, unit_column=Veteran.unit_id, not_found=VeteranNotFound)
        locations = custody.locations_for_station(actor, veteran.station_id)
    found = custody.find_veterans_without_archive(actor=actor, name=query) if query else []
    return render_template(
        "archives/intake.html",
        query=query,
        found=found,
        veteran=veteran,
        existing=custody.archive_of_veteran(veteran.id) if veteran else None,
        locations=locations or [],
        form=source if request.method == "POST" else {},
        rows=ROWS,
        today=today_cst(),
    )


@bp.route("/<id:archive_id>")
@permission_required("archives.view")
def detail(archive_id):
    actor = _actor()
    archive = common.get_archive(actor=actor, archive_id=archive_id)
    items = list(custody.items_of(archive.id))
    requests = archive_requests.requests_of(archive.id)
    veteran = db.session.get(Veteran, archive.veteran_id)
    location = db.session.get(ArchiveLocation, archive.location_id) if archive.location_id else None
    staff = common.staff_names(
        [archive.received_by_id, archive.transferred_by_id]
        + [r.requested_by_id for r in requests]
        + [r.decided_by_id for r in requests]
        + [r.done_by_id for r in requests]
    )
    return render_template(
        "archives/detail.html",
        archive=archive,
        veteran=veteran,
        station_name=db.session.get(OrgUnit, archive.station_id).name,
        location=location,
        items=items,
        item_titles={i.id: f"{i.seq}. {i.title}" for i in items},
        unchecked=[i for i in items if not i.checked],
        scans=files.files_of(archive.id) if actor.can("archives.manage") else {},
        viewable=files.viewable_items(actor, archive),
        requests=requests,
        staff=staff,
        states=common.STATE_LABELS,
        kinds=common.KIND_LABELS,
        requester_kinds=common.REQUESTER_LABELS,
        request_states=common.REQUEST_STATE_LABELS,
        in_custody=archive.state == "in_custody",
        can_manage=actor.can("archives.manage"),
        can_request=actor.can("archives.request"),
        can_approve=actor.can("archives.approve"),
        me=actor.id,
        today=today_cst(),
    )


def _back(archive_id):
    return redirect(url_for("archives.detail", archive_id=archive_id))


@bp.route("/<id:archive_id>/items", methods=["POST"])
@permission_required("archives.manage")
def add_items(archive_id):
    common.get_archive(actor=_actor(), archive_id=archive_id, permission="archives.manage")
    try:
        added = custody.add_items(
            actor=_actor(), archive_id=archive_id, lines=(request.form.get("lines") or "")[:20000]
        )
    except (RuleViolation, ValidationFailed) as error:
        failed(error)
    else:
        flash(f"已补充 {len(added)} 条材料", "success")
    return _back(archive_id)


@bp.route("/<id:archive_id>/files", methods=["POST"])
@accepts_upload(files.MAX_BYTES)
@permission_required("archives.manage")
def upload(archive_id):
    upload = request.files.get("file")
    try:
        files.add_file(
            actor=_actor(),
            archive_id=archive_id,
            item_id=positive_int(request.form, "item"),
            filename=upload.filename if upload else "",
            data=upload.read(files.MAX_BYTES + 1) if upload else b"",
        )
    except (RuleViolation, ValidationFailed) as error:
        failed(error)
    else:
        flash("扫描件已上传", "success")
    return _back(archive_id)


@bp.route("/files/<id:file_id>")
@permission_required("archives.manage")
def view_file(file_id):
    data, content_type, name = files.view_file(actor=_actor(), file_id=file_id)
    response = Response(data, mimetype=content_type)
    response.headers["Content-Disposition"] = f"inline; filename=\"scan\"; filename*=UTF-8''{quote(name)}"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "no-store, private"
    response.headers["Pragma"] = "no-cache"
    return response


@bp.route("/<id:archive_id>/transfer", methods=["POST"])
@permission_required("archives.manage")
def transfer(archive_id):
    common.get_archive(actor=_actor(), archive_id=archive_id, permission="archives.manage")
    try:
        custody.transfer_out(
            actor=_actor(),
            archive_id=archive_id,
            transferred_to=request.form.get("transferred_to"),
            transferred_on=request.form.get("transferred_on"),
            receipt=request.form.get("receipt"),
        )
    except (RuleViolation, ValidationFailed) as error:
        failed(error)
    else:
        flash("档案已转出", "success")
    return _back(archive_id)


from admin_portal.archives import location_views, request_views  # noqa: E402, F401
