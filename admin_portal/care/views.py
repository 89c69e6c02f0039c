"""常态化联系 pages: views parse, call one backend function, render; scope lives in backend/care."""

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from admin_portal.care import bp
from admin_portal.home.cards import Card, Item, card
from admin_portal.security import permission_required
from backend.care import contacts, digest, figures, plans
from backend.care.models import FLAGS, WAYS
from backend.errors import PermissionDenied, ValidationFailed
from backend.extensions import db
from backend.orgs.scope import get_unit_in_scope
from backend.registration.windows import today_cst
from backend.staff.models import Staff
from backend.veterans.queries import stations_in_scope


def _actor():
    return current_user._get_current_object()


def _int(source, name):
    value = (source.get(name) or "").strip()
    return int(value) if value.isascii() and value.isdigit() and 0 < len(value) <= 18 else None


def _failed(error):
    details = [v for v in (error.details or {}).values() if isinstance(v, str)]
    flash("；".join(details) if details else error.message, "danger")


@bp.route("/overdue")
@permission_required("care.view")
def overdue():
    actor = _actor()
    stations = stations_in_scope(actor)
    station_id = _int(request.args, "station")
    if station_id is not None and station_id not in {s.id for s in stations}:
        station_id = None  # out of scope or not a station: the whole subtree, as if unfiltered
    mine = request.args.get("mine") == "1"
    grid_worker = (request.args.get("grid_worker") or "").strip()[:64] or None
    page = figures.list_overdue(
        actor=actor,
        station_id=station_id,
        staff_id=actor.id if mine else None,
        grid_worker=grid_worker,
        after=(request.args.get("after") or "")[:40],
    )
    return render_template(
        "care/overdue.html",
        page=page,
        stations=stations,
        station_id=station_id,
        mine=mine,
        grid_worker=grid_worker,
        today=today_cst(),
        can_view_veterans=actor.can("veterans.view"),
    )


@bp.route("/coverage")
@permission_required("care.view")
def coverage():
    actor = _actor()
    unit = get_unit_in_scope(actor, _int(request.args, "unit") or actor.org_unit_id)
    total, children = figures.coverage(actor=actor, unit=unit)
    return render_template("care/coverage.html", unit=unit, total=total, children=children)


@bp.route("/policy", methods=["GET", "POST"])
@permission_required("care.view")
def policy():
    actor = _actor()
    unit_id = _int(request.values, "unit") or actor.org_unit_id
    status, errors = 200, {}
    if request.method == "POST":
        if not actor.can("care.contact"):
            raise PermissionDenied(details={"permission": "care.contact"})
        try:
            plans.set_policy(
                actor=actor,
                unit_id=unit_id,
                interval_days=_int(request.form, "interval_days") or 0,
                attention_interval_days=_int(request.form, "attention_interval_days") or 0,
            )
        except ValidationFailed as error:
            status, errors = 422, error.details
        else:
            flash("联系周期已保存，辖区内的联系计划将按新周期重新计算", "success")
            return redirect(url_for("care.policy", unit=unit_id))
    unit, own, (interval, attention_interval) = plans.get_policy(actor=actor, unit_id=unit_id)
    return render_template(
        "care/policy.html",
        unit=unit,
        own=own,
        interval=interval,
        attention_interval=attention_interval,
        errors=errors,
        can_edit=actor.can("care.contact"),
    ), status


@bp.route("/veterans/<id:veteran_id>/contacts", methods=["POST"])
@permission_required("care.contact")
def record_contact(veteran_id):
    form = request.form
    try:
        contacts.record_contact(
            actor=_actor(),
            veteran_id=veteran_id,
            contact_on=(form.get("contact_on") or "")[:10],
            way=(form.get("way") or "")[:16],
            notes={k: (form.get(f"note_{k}") or "")[:2000] for k in contacts.NOTE_KEYS},
            flags=[f for f in form.getlist("flags")[:10]],
            follow_up_on=(form.get("follow_up_on") or "")[:10],
        )
    except ValidationFailed as error:
        _failed(error)
    else:
        flash("联系记录已保存", "success")
    return redirect(url_for("veterans.detail", veteran_id=veteran_id) + "#contacts")


@bp.route("/veterans/<id:veteran_id>/plan", methods=["POST"])
@permission_required("care.contact")
def update_plan(veteran_id):
    try:
        plans.update_plan(
            actor=_actor(),
            veteran_id=veteran_id,
            attention=request.form.get("attention") == "1",
            assignee=(request.form.get("assignee") or "")[:40],
        )
    except ValidationFailed as error:
        _failed(error)
    else:
        flash("联系计划已保存", "success")
    return redirect(url_for("veterans.detail", veteran_id=veteran_id) + "#contacts")


@bp.route("/contacts/<id:contact_id>/notes", methods=["POST"])
@permission_required("care.view")
def notes(contact_id):
    contact, notes = contacts.read_notes(actor=_actor(), contact_id=contact_id)
    return render_template("care/notes.html", contact=contact, notes=notes, flags=FLAGS)


def veteran_parts(actor, veteran):
    """The veteran page's contact section (small addition to admin_portal/veterans/views.py)."""
    if not actor.can("care.view"):
        return {"care": None}
    plan = plans.view_plan(actor=actor, veteran=veteran)
    before = (request.args.get("contacts_before") or "")[:40]
    history = contacts.history(actor=actor, veteran_id=veteran.id, before=before)
    return {
        "care": {
            "plan": plan,
            "overdue": plans.is_overdue(plan),
            "days_overdue": plans.days_overdue(plan),
            "history": history,
            "staff_names": contacts_staff_names(history.rows, plan),
            "assignees": plans.assignee_choices(veteran) if actor.can("care.contact") else [],
            "can_contact": actor.can("care.contact"),
            "ways": WAYS,
            "flags": FLAGS,
            "today": today_cst(),
        }
    }


def contacts_staff_names(rows, plan):
    ids = {r.staff_id for r in rows} | ({plan.assignee_staff_id} if plan.assignee_staff_id else set())
    return dict(db.session.execute(select(Staff.id, Staff.full_name).where(Staff.id.in_(ids))).all()) if ids else {}


@card(order=25)
def contact_reminders(actor):
    """常态化联系: overdue in scope, overdue assigned to me, and this week's reminder (本周联系提醒) per station."""
    if not actor.can("care.view"):
        return None
    overdue_all = figures.count_overdue(actor=actor)
    mine = figures.count_overdue(actor=actor, staff_id=actor.id)
    return Card(
        key="care",
        title="常态化联系",
        template="care/_card.html",
        order=contact_reminders.order,
        items=[
            Item(
                "care_overdue", "逾期未联系", str(overdue_all), url_for("care.overdue"), urgent=bool(overdue_all.value)
            ),
            Item("care_mine", "分配给我的逾期", str(mine), url_for("care.overdue", mine="1"), urgent=bool(mine.value)),
        ],
        rows=digest.latest_for(actor),
        more_url=url_for("care.coverage"),
    )
