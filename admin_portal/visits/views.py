"""Campaign list and creation, a campaign's progress and visits with bulk assignment, one visit's record and photos."""

from datetime import date
from urllib.parse import quote

from flask import Response, flash, redirect, render_template, request, url_for
from flask_login import current_user

from admin_portal.security import accepts_upload, permission_required
from admin_portal.visits import bp
from backend.errors import RuleViolation, ValidationFailed
from backend.extensions import db
from backend.orgs.models import OrgUnit
from backend.registration.windows import today_cst
from backend.staff.models import Staff
from backend.veterans.models import Veteran
from backend.veterans.queries import grids_in_scope, stations_in_scope
from backend.visits import attachments, campaigns, records
from backend.visits.models import SOURCE_LABELS, STATUS_LABELS, VisitCampaign
from backend.webutil import positive_int

FORM_KEYS = ("name", "purpose", "unit", "starts_on", "ends_on", "grid", "party_member", "tags")
RECORD_KEYS = ("visited_on", "notes", "gift", "amount", "funding_source", "budget_year")


def _actor():
    return current_user._get_current_object()


def _date(value):
    try:
        return date.fromisoformat((value or "").strip()[:10])
    except ValueError:
        return None


def _messages(error):
    return {k: v for k, v in (error.details or {}).items() if isinstance(v, str)} or {"form": error.message}


@bp.route("/")
@permission_required("care.view")
def index():
    actor = _actor()
    rows, next_before = campaigns.list_campaigns(actor=actor, before_id=positive_int(request.args, "before"))
    return render_template(
        "visits/index.html",
        campaigns=rows,
        progress=campaigns.progress(actor=actor, campaign_ids=[c.id for c in rows]),
        units={u.id: u.name for u in db.session.query(OrgUnit).filter(OrgUnit.id.in_({c.unit_id for c in rows}))},
        next_before=next_before,
        can_create=actor.can("care.visits"),
    )


def _units(actor):
    return [actor.org_unit] + [s for s in stations_in_scope(actor) if s.id != actor.org_unit_id]


@bp.route("/new", methods=["GET", "POST"])
@permission_required("care.visits")
def new():
    actor, errors = _actor(), {}
    form = {k: (request.form.get(k) or "")[:500] for k in FORM_KEYS} if request.method == "POST" else {}
    if request.method == "POST":
        party = {"1": True, "0": False}.get(form["party_member"])
        tags = [t for t in form["tags"].replace("，", ",").split(",") if t.strip()]
        audience = {"grid_id": positive_int(form, "grid"), "party_member": party, "tags": tags}
        try:
            campaign = campaigns.create_campaign(
                actor=actor,
                unit_id=positive_int(form, "unit"),
                name=form["name"],
                purpose=form["purpose"],
                starts_on=_date(form["starts_on"]),
                ends_on=_date(form["ends_on"]),
                audience={k: v for k, v in audience.items() if v not in (None, [])},
            )
        except ValidationFailed as error:
            errors = _messages(error)
        else:
            flash(f"已创建走访活动「{campaign.name}」，共 {campaign.total} 名走访对象", "success")
            return redirect(url_for("visits.campaign", campaign_id=campaign.id))
    return render_template(
        "visits/new.html", form=form, errors=errors, units=_units(actor), grids=grids_in_scope(actor)
    ), (422 if errors else 200)


@bp.route("/<id:campaign_id>")
@permission_required("care.view")
def campaign(campaign_id):
    actor = _actor()
    found = campaigns.get_campaign(actor=actor, campaign_id=campaign_id)
    station_id, status = positive_int(request.args, "station"), request.args.get("status")
    rows, next_after = records.list_visits(
        actor=actor,
        campaign_id=found.id,
        station_id=station_id,
        status=status,
        after_id=positive_int(request.args, "after"),
    )
    can_assign = actor.can("care.visits") and station_id is not None
    staff = campaigns.assignable_staff(actor=actor, station_id=station_id) if can_assign else []
    return render_template(
        "visits/campaign.html",
        campaign=found,
        progress=campaigns.progress(actor=actor, campaign_ids=[found.id]).get(found.id),
        rows=rows,
        names={s.id: s.full_name for s in db.session.query(Staff).filter(Staff.id.in_({r[0].staff_id for r in rows}))},
        next_after=next_after,
        station_id=station_id,
        status=status if status in STATUS_LABELS else "",
        stations=stations_in_scope(actor),
        staff=staff,
        labels=STATUS_LABELS,
        can_assign=can_assign,
    )


@bp.route("/<id:campaign_id>/assign", methods=["POST"])
@permission_required("care.visits")
def assign(campaign_id):
    station_id = positive_int(request.form, "station")
    everyone = request.form.get("scope") == "unassigned"
    try:
        count = campaigns.assign(
            actor=_actor(),
            campaign_id=campaign_id,
            station_id=station_id,
            staff_id=positive_int(request.form, "staff"),
            visit_ids=None if everyone else request.form.getlist("visit")[: campaigns.MAX_ASSIGN],
        )
    except ValidationFailed as error:
        flash("；".join(_messages(error).values()), "danger")
    else:
        flash(f"已分配 {count} 个走访任务", "success")
    return redirect(url_for("visits.campaign", campaign_id=campaign_id, station=station_id))


def _visit_page(visit, form=None, errors=None, status=200):
    campaign = db.session.get(VisitCampaign, visit.campaign_id)
    return render_template(
        "visits/visit.html",
        visit=visit,
        campaign=campaign,
        veteran=db.session.get(Veteran, visit.veteran_id),
        station=db.session.get(OrgUnit, visit.station_id),
        visitor=db.session.get(Staff, visit.staff_id) if visit.staff_id else None,
        notes=records.read_notes(visit),
        photos=attachments.list_photos(visit.id),
        form=form or {"visited_on": today_cst().isoformat(), "budget_year": str(today_cst().year)},
        errors=errors or {},
        labels=STATUS_LABELS,
        sources=SOURCE_LABELS,
        amount=records.format_fen(visit.amount_fen),
        can_record=_actor().can("care.visits") and visit.status == "planned",
        can_upload=_actor().can("care.visits") and visit.status != "skipped",
    ), status


@bp.route("/visit/<id:visit_id>")
@permission_required("care.view")
def visit(visit_id):
    return _visit_page(records.get_visit(actor=_actor(), visit_id=visit_id))


@bp.route("/visit/<id:visit_id>/record", methods=["POST"])
@permission_required("care.visits")
def record(visit_id):
    actor = _actor()
    form = {k: (request.form.get(k) or "")[:4000] for k in RECORD_KEYS}
    try:
        found = records.record_visit(
            actor=actor,
            visit_id=visit_id,
            visited_on=_date(form["visited_on"]),
            notes=form["notes"],
            gift=form["gift"],
            amount_fen=records.parse_yuan(form["amount"]),
            funding_source=form["funding_source"] or None,
            budget_year=positive_int(form, "budget_year"),
            tell=request.form.get("tell") == "1",
        )
    except ValidationFailed as error:
        return _visit_page(records.get_visit(actor=actor, visit_id=visit_id), form, _messages(error), 422)
    except RuleViolation as error:
        flash(error.message, "danger")
        return redirect(url_for("visits.visit", visit_id=visit_id))
    flash("走访已登记", "success")
    return redirect(url_for("visits.visit", visit_id=found.id))


@bp.route("/visit/<id:visit_id>/skip", methods=["POST"])
@permission_required("care.visits")
def skip(visit_id):
    try:
        records.skip_visit(actor=_actor(), visit_id=visit_id, reason=(request.form.get("reason") or "")[:1000])
    except (ValidationFailed, RuleViolation) as error:
        flash("；".join(_messages(error).values()), "danger")
    else:
        flash("已标记为未走访", "success")
    return redirect(url_for("visits.visit", visit_id=visit_id))


@bp.route("/visit/<id:visit_id>/photos", methods=["POST"])
@accepts_upload(attachments.MAX_BYTES)
@permission_required("care.visits")
def upload(visit_id):
    upload = request.files.get("photo")
    try:
        attachments.add_photo(
            actor=_actor(),
            visit_id=visit_id,
            filename=upload.filename if upload else "",
            data=upload.read(attachments.MAX_BYTES + 1) if upload else b"",
        )
    except (ValidationFailed, RuleViolation) as error:
        flash("；".join(_messages(error).values()), "danger")
    else:
        flash("照片已上传", "success")
    return redirect(url_for("visits.visit", visit_id=visit_id))


@bp.route("/photos/<id:photo_id>")
@permission_required("care.view")
def photo(photo_id):
    data, content_type, name = attachments.open_photo(actor=_actor(), photo_id=photo_id)
    response = Response(data, mimetype=content_type)
    response.headers["Content-Disposition"] = f"attachment; filename=\"photo\"; filename*=UTF-8''{quote(name)}"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
