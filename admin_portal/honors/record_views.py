"""表彰奖励 and 编入地方志 (Art. 11): awards in scope (level and year filters) and their entry for a veteran found by
name or ID number; chronicle candidates proposed by staff, reviewed by a center reviewer who did not propose them."""

from flask import flash, redirect, render_template, request, url_for

from admin_portal.honors import bp
from admin_portal.honors.common import actor, flash_text, form_errors, form_values
from admin_portal.security import permission_required
from backend.errors import RuleViolation, StaleUpdate, ValidationFailed
from backend.extensions import db
from backend.honors import awards, chronicle, rules
from backend.honors.models import AWARD_LEVELS, CHRONICLE_STATES
from backend.orgs.scope import get_scoped
from backend.registration.windows import today_cst
from backend.veterans.models import Veteran
from backend.veterans.service import VeteranNotFound
from backend.webutil import positive_int


def _picked_veteran(me, source):
    """The veteran chosen by ?veteran=<id> (in scope, else 404), or None."""
    veteran_id = positive_int(source, "veteran")
    if not veteran_id:
        return None
    return get_scoped(Veteran, veteran_id, actor=me, unit_column=Veteran.unit_id, not_found=VeteranNotFound)


def _search(me):
    """A search POSTed from the page (an ID number never sits in a URL): the veterans found, and the query shown."""
    query = (request.form.get("q") or "").strip()[:64]
    found = rules.find_veterans(actor=me, query=query) if query else []
    return found, ("" if query.isdigit() or len(query) == 18 else query)


@bp.route("/awards")
@permission_required("honors.view")
def awards_list():
    me = actor()
    level = request.args.get("level") if request.args.get("level") in AWARD_LEVELS else None
    year = positive_int(request.args, "year")
    year = year if year and 1950 <= year <= 2100 else None
    before = positive_int(request.args, "before")
    rows, next_before = awards.list_awards(actor=me, level=level, year=year, before=before)
    return render_template(
        "honors/awards.html",
        rows=rows,
        next_before=next_before,
        level=level,
        year=year,
        levels=rules.AWARD_LEVEL_LABELS,
        years=range(today_cst().year, today_cst().year - 10, -1),
        stations=rules.unit_names(a.station_id for a, _ in rows),
        can_manage=me.can("honors.manage"),
    )


@bp.route("/awards/new", methods=["GET", "POST"])
@permission_required("honors.manage")
def award_new():
    me = actor()
    source = request.form if request.method == "POST" else request.args
    veteran = _picked_veteran(me, source)
    values, errors, status = {}, {}, 200
    if request.method == "POST" and veteran is not None:
        values = form_values(awards.FIELDS)
        try:
            awards.create_award(actor=me, veteran_id=veteran.id, values=values)
        except ValidationFailed as error:
            errors, status = form_errors(error), 422
        else:
            flash("表彰奖励已登记", "success")
            return redirect(url_for("veterans.detail", veteran_id=veteran.id) + "#honors")
    return _award_page(veteran, values=values, errors=errors), status


@bp.route("/awards/new/search", methods=["POST"])
@permission_required("honors.manage")
def award_search():
    """The award page's search (its own route: the award form itself asks for confirmation, a search need not)."""
    found, query = _search(actor())
    return _award_page(None, found=found, query=query)


def _award_page(veteran, *, found=(), query="", values=None, errors=None):
    return render_template(
        "honors/award_new.html",
        veteran=veteran,
        found=found,
        query=query,
        values=values or {},
        errors=errors or {},
        levels=rules.AWARD_LEVEL_LABELS,
        today=today_cst().isoformat(),
    )


@bp.route("/chronicle")
@permission_required("honors.view")
def chronicle_list():
    me = actor()
    status = request.args.get("status") if request.args.get("status") in CHRONICLE_STATES else None
    rows, next_before = chronicle.list_entries(actor=me, status=status, before=positive_int(request.args, "before"))
    return render_template(
        "honors/chronicle.html",
        rows=rows,
        next_before=next_before,
        status=status,
        statuses=rules.CHRONICLE_LABELS,
        stations=rules.unit_names(e.station_id for e, _ in rows),
        can_manage=me.can("honors.manage"),
    )


@bp.route("/chronicle/new", methods=["GET", "POST"])
@permission_required("honors.manage")
def chronicle_new():
    me = actor()
    source = request.form if request.method == "POST" else request.args
    veteran = _picked_veteran(me, source)
    found, query, errors, reason, status = [], "", {}, "", 200
    if request.method == "POST" and request.form.get("q") is not None:
        found, query = _search(me)
    elif request.method == "POST" and veteran is not None:
        reason = (request.form.get("reason") or "")[:500]
        try:
            entry = chronicle.propose(actor=me, veteran_id=veteran.id, reason=reason)
        except ValidationFailed as error:
            errors, status = form_errors(error), 422
        except RuleViolation as error:
            errors, status = {"form": error.message}, 409
        else:
            flash("已推荐编入地方志，待服务中心审核", "success")
            return redirect(url_for("honors.chronicle_detail", entry_id=entry.id))
    return render_template(
        "honors/chronicle_new.html", veteran=veteran, found=found, query=query, errors=errors, reason=reason
    ), status


@bp.route("/chronicle/<id:entry_id>")
@permission_required("honors.view")
def chronicle_detail(entry_id):
    me = actor()
    entry = chronicle.get_entry(actor=me, entry_id=entry_id)
    veteran = db.session.get(Veteran, entry.veteran_id)
    return render_template(
        "honors/chronicle_detail.html",
        entry=entry,
        veteran=veteran,
        station_name=rules.unit_names([entry.station_id]).get(entry.station_id, ""),
        staff=rules.staff_names([entry.proposed_by_id, entry.reviewed_by_id]),
        statuses=rules.CHRONICLE_LABELS,
        can_review=me.can("honors.review") and entry.status == "candidate" and entry.proposed_by_id != me.id,
        own_proposal=entry.proposed_by_id == me.id,
    )


def _review(entry_id, action, success):
    me = actor()
    chronicle.get_entry(actor=me, entry_id=entry_id, permission="honors.review")  # out of scope: 404 first
    try:
        action(me)
    except StaleUpdate as error:
        flash(error.message, "warning")
    except (RuleViolation, ValidationFailed) as error:
        flash(flash_text(error), "danger")
    else:
        flash(success, "success")
    return redirect(url_for("honors.chronicle_detail", entry_id=entry_id))


@bp.route("/chronicle/<id:entry_id>/accept", methods=["POST"])
@permission_required("honors.review")
def chronicle_accept(entry_id):
    form = request.form
    return _review(
        entry_id,
        lambda me: chronicle.accept(
            actor=me,
            entry_id=entry_id,
            version=form.get("version"),
            entry_text=(form.get("entry_text") or "")[:4000],
            volume=(form.get("volume") or "")[:100],
        ),
        "已审核通过，编入地方志",
    )


@bp.route("/chronicle/<id:entry_id>/reject", methods=["POST"])
@permission_required("honors.review")
def chronicle_reject(entry_id):
    form = request.form
    return _review(
        entry_id,
        lambda me: chronicle.reject(
            actor=me, entry_id=entry_id, version=form.get("version"), note=(form.get("note") or "")[:300]
        ),
        "已作出不予采纳的审核意见",
    )
