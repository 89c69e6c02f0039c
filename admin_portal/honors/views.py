"""荣誉与仪式 (Art. 11): ceremonies of both kinds in scope, a celebration's invitations (by unit and/or picked
veterans; irreversible, so the form asks first) and replies recorded on a veteran's behalf."""

from flask import abort, flash, redirect, render_template, request, url_for

from admin_portal.honors import bp
from admin_portal.honors.common import actor, flash_text, form_errors, form_values
from admin_portal.security import permission_required
from backend.db import utcnow
from backend.errors import RuleViolation, ValidationFailed
from backend.honors import ceremonies as ceremony_service
from backend.honors import invitations, rules
from backend.honors.models import CEREMONY_KINDS
from backend.veterans.queries import grids_in_scope, stations_in_scope
from backend.webutil import positive_int

CEREMONY_FIELDS = ("unit_id", "level", "title", "held_at", "place", "attendees", "note", "rsvp_by")


@bp.route("/")
@permission_required("honors.view")
def index():
    return redirect(url_for("honors.ceremonies"))


@bp.route("/ceremonies")
@permission_required("honors.view")
def ceremonies():
    me = actor()
    kind = request.args.get("kind") if request.args.get("kind") in CEREMONY_KINDS else None
    rows, next_before = ceremony_service.list_ceremonies(
        actor=me, kind=kind, before=positive_int(request.args, "before")
    )
    return render_template(
        "honors/ceremonies.html",
        rows=rows,
        next_before=next_before,
        figures=ceremony_service.counts(r.id for r in rows),
        units=rules.unit_names(r.unit_id for r in rows),
        welcomed=ceremony_service.welcomed(r.id for r in rows if r.kind == "welcome"),
        kind=kind,
        kinds=rules.KIND_LABELS,
        levels=rules.LEVEL_LABELS,
        can_manage=me.can("honors.manage"),
    )


@bp.route("/ceremonies/new", methods=["GET", "POST"])
@permission_required("honors.manage")
def ceremony_new():
    me = actor()
    values, errors, status = {"unit_id": str(me.org_unit_id)}, {}, 200
    if request.method == "POST":
        values = form_values(CEREMONY_FIELDS, 500)
        try:
            ceremony = ceremony_service.create_celebration(actor=me, values=values)
        except ValidationFailed as error:
            errors, status = form_errors(error), 422
        else:
            flash("庆典活动已登记，可以发出邀请", "success")
            return redirect(url_for("honors.ceremony", ceremony_id=ceremony.id))
    return render_template(
        "honors/ceremony_new.html",
        values=values,
        errors=errors,
        units=ceremony_service.organiser_units(me),
        levels=rules.LEVEL_LABELS,
    ), status


@bp.route("/ceremonies/<id:ceremony_id>")
@permission_required("honors.view")
def ceremony(ceremony_id):
    me = actor()
    found = ceremony_service.get_ceremony(actor=me, ceremony_id=ceremony_id)
    status = request.args.get("status") if request.args.get("status") in rules.RSVP_LABELS else None
    rows, next_after = ceremony_service.invitees(
        found, actor=me, status=status, after=positive_int(request.args, "after")
    )
    return render_template(
        "honors/ceremony.html",
        ceremony=found,
        figures=ceremony_service.counts([found.id])[found.id],
        unit_name=rules.unit_names([found.unit_id]).get(found.unit_id, ""),
        welcomed=ceremony_service.welcomed([found.id]).get(found.id),
        can_see_onboarding=me.can("onboarding.view"),
        rows=rows,
        next_after=next_after,
        status=status,
        recorders=rules.staff_names(i.recorded_by_id for i, _ in rows),
        kinds=rules.KIND_LABELS,
        levels=rules.LEVEL_LABELS,
        rsvp=rules.RSVP_LABELS,
        closes_at=rules.reply_closes_at(found),
        reply_open=rules.reply_open(found),
        can_manage=me.can("honors.manage"),
        max_guests=rules.MAX_GUESTS,
        now_utc=utcnow(),
    )


@bp.route("/ceremonies/<id:ceremony_id>/invite", methods=["GET", "POST"])
@permission_required("honors.manage")
def invite(ceremony_id):
    me = actor()
    found = ceremony_service.get_ceremony(actor=me, ceremony_id=ceremony_id, permission="honors.manage")
    if found.kind != "celebration":
        abort(404)
    if request.method == "POST":
        try:
            count = invitations.invite(
                actor=me,
                ceremony_id=found.id,
                unit_id=positive_int(request.form, "unit_id"),
                party_only=request.form.get("party_only") == "1",
                veteran_ids=request.form.getlist("veteran")[: invitations.MAX_PICKED + 1],
            )
        except (RuleViolation, ValidationFailed) as error:
            flash(flash_text(error), "danger")
            return redirect(url_for("honors.invite", ceremony_id=found.id))
        flash(f"已邀请 {count} 人并通知本人（已邀请过的不重复邀请）", "success")
        return redirect(url_for("honors.ceremony", ceremony_id=found.id))
    return _invite_page(me, found)


@bp.route("/ceremonies/<id:ceremony_id>/invite/search", methods=["POST"])
@permission_required("honors.manage")
def invite_search(ceremony_id):
    """The invite page's search, POSTed so that a name or ID number never sits in a URL or an access log."""
    me = actor()
    found = ceremony_service.get_ceremony(actor=me, ceremony_id=ceremony_id, permission="honors.manage")
    if found.kind != "celebration":
        abort(404)
    query = (request.form.get("q") or "").strip()[:64]
    return _invite_page(me, found, query)


def _invite_page(me, ceremony, query=""):
    return render_template(
        "honors/invite.html",
        ceremony=ceremony,
        query="" if query.isdigit() or len(query) == 18 else query,
        searched=bool(query),
        found=rules.find_veterans(actor=me, query=query, under=rules.unit_path(ceremony.unit_id)) if query else [],
        stations=stations_in_scope(me),
        grids=grids_in_scope(me),
    )


@bp.route("/invitations/<id:invitation_id>/reply", methods=["POST"])
@permission_required("honors.manage")
def record_reply(invitation_id):
    me = actor()
    invitation = invitations.get_invitation(actor=me, invitation_id=invitation_id, permission="honors.manage")
    raw = (request.form.get("guests") or "0").strip()
    guests = int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 2 else -1
    choice = request.form.get("attending")
    try:
        invitations.record_reply(
            actor=me,
            invitation_id=invitation.id,
            attending={"1": True, "0": False}.get(choice, choice),
            guests=guests,
        )
    except (RuleViolation, ValidationFailed) as error:
        flash(flash_text(error), "danger")
    else:
        flash("已代为登记回复", "success")
    return redirect(url_for("honors.ceremony", ceremony_id=invitation.ceremony_id))
