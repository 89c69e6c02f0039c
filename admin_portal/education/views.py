"""教育提醒 (Art. 5): campaigns (draft, preview count, send, acknowledgement rate, the unacknowledged, chase) and
in-person sessions with attendance. Thin: the rules and the transaction live in backend/education."""

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from admin_portal.education import bp
from admin_portal.security import permission_required
from backend.education import campaigns, followup, sessions
from backend.errors import RuleViolation, ValidationFailed
from backend.extensions import db
from backend.orgs.models import OrgUnit
from backend.orgs.scope import scoped
from backend.registration.windows import today_cst
from backend.webutil import link_args, positive_int

MAX_UNITS = 300


def _actor():
    return current_user._get_current_object()


def _failed(error):
    details = [v for v in (error.details or {}).values() if isinstance(v, str)]
    flash(error.message if isinstance(error, RuleViolation) or not details else "；".join(details), "danger")


def _units(actor):
    query = scoped(select(OrgUnit).where(OrgUnit.level != "grid"), actor, OrgUnit.id)
    return db.session.scalars(query.order_by(OrgUnit.path).limit(MAX_UNITS)).all()


def _form_audience(form):
    audience = {"unit_id": positive_int(form, "unit")}
    if form.get("party_member") in ("1", "0"):
        audience["party_member"] = form["party_member"] == "1"
    tags = [t for t in form.get("tags", "").replace("，", " ").replace(",", " ").split() if t]
    if tags:
        audience["tags"] = tags
    return audience


@bp.get("/")
@permission_required("education.view")
def index():
    actor = _actor()
    page = campaigns.list_campaigns(actor=actor, after=positive_int(request.args, "after"))
    rates = followup.rates(page.rows)
    return render_template(
        "education/index.html",
        page=page,
        rates=rates,
        kinds=campaigns.KIND_LABELS,
        states=campaigns.STATE_LABELS,
        today=today_cst(),
        can_send=actor.can("education.send"),
        args=link_args("after"),
    )


@bp.get("/new")
@permission_required("education.send")
def new():
    return render_template(
        "education/new.html", units=_units(_actor()), kinds=campaigns.KIND_LABELS, form={}, today=today_cst()
    )


@bp.post("/new")
@permission_required("education.send")
def create():
    form = request.form
    try:
        campaign = campaigns.create_campaign(
            actor=_actor(),
            kind=form.get("kind"),
            title=form.get("title"),
            content=form.get("content"),
            links=campaigns.parse_links(form.get("links")),
            audience=_form_audience(form),
            due_on=form.get("due_on"),
        )
    except ValidationFailed as error:
        _failed(error)
        return render_template(
            "education/new.html", units=_units(_actor()), kinds=campaigns.KIND_LABELS, form=form, today=today_cst()
        ), 422
    flash("已保存草稿，请核对收件人数后发送", "success")
    return redirect(url_for("education.campaign", campaign_id=campaign.id))


@bp.get("/campaigns/<id:campaign_id>")
@permission_required("education.view")
def campaign(campaign_id):
    actor = _actor()
    item = campaigns.get_campaign(actor=actor, campaign_id=campaign_id)
    _, rows, next_after = followup.unacknowledged(
        actor=actor, campaign_id=item.id, after=positive_int(request.args, "after")
    )
    return render_template(
        "education/campaign.html",
        campaign=item,
        unit=campaigns.unit_of(item),
        count=campaigns.preview_count(item) if item.state == "draft" else None,
        rate=followup.rate(item),
        rows=rows,
        next_after=next_after,
        kinds=campaigns.KIND_LABELS,
        states=campaigns.STATE_LABELS,
        overdue=followup.is_overdue(item, today_cst()),
        can_send=actor.can("education.send"),
    )


@bp.post("/campaigns/<id:campaign_id>/send")
@permission_required("education.send")
def send(campaign_id):
    try:
        item = campaigns.send(actor=_actor(), campaign_id=campaign_id)
    except (RuleViolation, ValidationFailed) as error:
        _failed(error)
    else:
        flash(f"已发送给 {item.recipient_count} 人", "success")
    return redirect(url_for("education.campaign", campaign_id=campaign_id))


@bp.post("/campaigns/<id:campaign_id>/chase")
@permission_required("education.send")
def chase(campaign_id):
    try:
        added = followup.chase(actor=_actor(), campaign_id=campaign_id)
    except RuleViolation as error:
        _failed(error)
    else:
        flash(f"已将 {added} 名未确认知悉的退役军人转入电话联系名单", "success")
    if request.form.get("back") == "index":  # chased from the list
        return redirect(url_for("education.index"))
    return redirect(url_for("education.campaign", campaign_id=campaign_id))


# --- in-person sessions


@bp.get("/sessions")
@permission_required("education.view")
def session_list():
    actor = _actor()
    rows, next_after = sessions.list_sessions(actor=actor, after=positive_int(request.args, "after"))
    return render_template(
        "education/sessions.html",
        rows=rows,
        next_after=next_after,
        units=_units(actor) if actor.can("education.attendance") else [],
        unit_names=dict(
            db.session.execute(select(OrgUnit.id, OrgUnit.name).where(OrgUnit.id.in_({r.unit_id for r in rows}))).all()
        ),
        kinds=campaigns.KIND_LABELS,
        today=today_cst(),
        args=link_args("after"),
    )


@bp.post("/sessions")
@permission_required("education.attendance")
def create_session():
    form = request.form
    try:
        item = sessions.create_session(
            actor=_actor(),
            unit_id=positive_int(form, "unit"),
            kind=form.get("kind"),
            title=form.get("title"),
            held_on=form.get("held_on"),
            place=form.get("place"),
            campaign_id=positive_int(form, "campaign"),
        )
    except ValidationFailed as error:
        _failed(error)
        return redirect(url_for("education.session_list"))
    flash("已登记集中学习，请登记参加人员", "success")
    return redirect(url_for("education.session", session_id=item.id))


@bp.get("/sessions/<id:session_id>")
@permission_required("education.view")
def session(session_id):
    actor = _actor()
    item = sessions.get_session(actor=actor, session_id=session_id)
    query = (request.args.get("q") or "").strip()[:64]
    can_record = actor.can("education.attendance")
    return render_template(
        "education/session.html",
        session=item,
        unit=db.session.get(OrgUnit, item.unit_id),
        rows=sessions.attendance_of(item),
        found=sessions.search_veterans(actor=actor, session=item, name=query) if can_record else [],
        q=query,
        kinds=campaigns.KIND_LABELS,
        can_record=can_record,
    )


@bp.post("/sessions/<id:session_id>/attendance")
@permission_required("education.attendance")
def record_attendance(session_id):
    form = request.form
    row = sessions.record_attendance(
        actor=_actor(),
        session_id=session_id,
        veteran_id=positive_int(form, "veteran"),
        attended=form.get("attended", "1") == "1",
        note=form.get("note"),
    )
    flash("已登记参加情况" if row.attended else "已登记为未参加", "success")
    return redirect(url_for("education.session", session_id=session_id))
