"""工作人员培训与专人负责 (Art. 20, 21): figures per unit, the responsible office or person per unit, training
sessions with attendees and results, and per-staff yearly hours. Thin: rules live in backend/training."""

from datetime import date

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from admin_portal.security import permission_required
from admin_portal.training import bp
from backend.errors import RuleViolation, ValidationFailed
from backend.extensions import db
from backend.orgs.models import OrgUnit
from backend.orgs.scope import get_unit_in_scope, scoped
from backend.registration.windows import today_cst
from backend.training import figures
from backend.training import service as training
from backend.webutil import link_args, positive_int

LABELS = {"kinds": training.KIND_LABELS, "results": training.RESULT_LABELS, "hours_text": training.hours_text}


def _actor():
    return current_user._get_current_object()


def _failed(error):
    details = [v for v in (error.details or {}).values() if isinstance(v, str)]
    flash(error.message if isinstance(error, RuleViolation) or not details else "；".join(details), "danger")


def _year():
    year = positive_int(request.args, "year")
    return year if year and 2000 <= year <= 2100 else today_cst().year


def _date(value, field):
    try:
        return date.fromisoformat((value or "").strip()[:10])
    except ValueError:
        raise ValidationFailed(details={field: "请填写日期（YYYY-MM-DD）"}) from None


def _units(actor):
    from sqlalchemy import select

    query = scoped(select(OrgUnit).where(OrgUnit.level.in_(training.RESPONSIBLE_LEVELS)), actor, OrgUnit.id)
    return db.session.scalars(query.order_by(OrgUnit.path).limit(500)).all()


@bp.get("/")
@permission_required("training.view")
def index():
    actor = _actor()
    year = _year()
    unit, rows, total = figures.children_figures(
        actor=actor, unit_id=positive_int(request.args, "unit") or actor.org_unit_id, year=year
    )
    return render_template("training/index.html", unit=unit, rows=rows, total=total, year=year, **LABELS)


@bp.get("/responsible")
@permission_required("training.view")
def responsible():
    actor = _actor()
    missing = request.args.get("missing") == "1"
    rows, next_after = training.list_responsible(
        actor=actor,
        unit_id=positive_int(request.args, "unit"),
        missing_only=missing,
        after=positive_int(request.args, "after"),
    )
    names = training.staff_names(r.staff_id for _, r in rows if r)
    return render_template(
        "training/responsible.html",
        rows=rows,
        next_after=next_after,
        names=names,
        missing=missing,
        can_manage=actor.can("training.manage"),
        args=link_args("after"),
    )


@bp.route("/responsible/<id:unit_id>", methods=["GET", "POST"])
@permission_required("training.manage")
def edit_responsible(unit_id):
    actor = _actor()
    unit = get_unit_in_scope(actor, unit_id)
    if request.method == "POST":
        try:
            since = _date(request.form.get("since"), "since") if request.form.get("since") else None
            training.set_responsible(
                actor=actor,
                unit_id=unit.id,
                office=request.form.get("office"),
                staff_id=positive_int(request.form, "staff"),
                person_name=request.form.get("person_name"),
                since=since,
            )
        except (RuleViolation, ValidationFailed) as error:
            _failed(error)
        else:
            flash(f"已保存 {unit.name} 的负责科室与专人", "success")
            return redirect(url_for("training.responsible"))
    return render_template(
        "training/edit_responsible.html",
        unit=unit,
        row=training.responsible_for([unit.id]).get(unit.id),
        is_center=unit.level in training.CENTER_LEVELS,
        applies=training.needs_responsible(unit),
        staff=training.staff_of_unit(unit),
    )


@bp.post("/responsible/<id:unit_id>/clear")
@permission_required("training.manage")
def clear_responsible(unit_id):
    unit = training.clear_responsible(actor=_actor(), unit_id=unit_id)
    flash(f"已清除 {unit.name} 的负责科室与专人", "success")
    return redirect(url_for("training.responsible"))


@bp.get("/sessions")
@permission_required("training.view")
def sessions():
    actor = _actor()
    rows, next_before = training.list_sessions(
        actor=actor, unit_id=positive_int(request.args, "unit"), before=positive_int(request.args, "before")
    )
    units = {u.id: u.name for u in db.session.query(OrgUnit).filter(OrgUnit.id.in_({r.unit_id for r in rows}))}
    return render_template(
        "training/sessions.html",
        rows=rows,
        next_before=next_before,
        unit_names=units,
        can_manage=actor.can("training.manage"),
        args=link_args("before"),
        **LABELS,
    )


@bp.route("/sessions/new", methods=["GET", "POST"])
@permission_required("training.manage")
def new_session():
    actor = _actor()
    if request.method == "POST":
        form = request.form
        try:
            session = training.create_session(
                actor=actor,
                unit_id=positive_int(form, "unit"),
                kind=form.get("kind"),
                topic=form.get("topic"),
                held_on=_date(form.get("held_on"), "held_on"),
                hours_tenths=training.parse_hours(form.get("hours")),
                trainer=form.get("trainer"),
            )
        except (RuleViolation, ValidationFailed) as error:
            _failed(error)
        else:
            flash("已登记培训，请添加参训人员", "success")
            return redirect(url_for("training.session_detail", session_id=session.id))
    return render_template("training/new_session.html", units=_units(actor), today=today_cst(), **LABELS)


@bp.get("/sessions/<id:session_id>")
@permission_required("training.view")
def session_detail(session_id):
    actor = _actor()
    session = training.get_session(actor=actor, session_id=session_id)
    unit = db.session.get(OrgUnit, session.unit_id)
    can_manage = actor.can("training.manage")
    return render_template(
        "training/session.html",
        session=session,
        unit=unit,
        attendees=training.attendees_of(session.id),
        staff=training.staff_of_unit(unit) if can_manage else [],
        can_manage=can_manage,
        **LABELS,
    )


@bp.post("/sessions/<id:session_id>/attendees")
@permission_required("training.manage")
def add_attendee(session_id):
    actor = _actor()
    training.get_session(actor=actor, session_id=session_id)  # out of scope: 404 before any form check
    score = (request.form.get("score") or "").strip()
    try:
        if score and not (score.isascii() and score.isdigit() and len(score) <= 3):  # int() of 5000 digits raises
            raise ValidationFailed(details={"score": "成绩应为 0 至 100 的整数"})
        training.add_attendee(
            actor=actor,
            session_id=session_id,
            staff_id=positive_int(request.form, "staff"),
            result=request.form.get("result"),
            score=int(score) if score else None,
        )
    except (RuleViolation, ValidationFailed) as error:
        _failed(error)
    else:
        flash("已添加参训人员", "success")
    return redirect(url_for("training.session_detail", session_id=session_id))


@bp.post("/sessions/<id:session_id>/attendees/<id:attendance_id>/remove")
@permission_required("training.manage")
def remove_attendee(session_id, attendance_id):
    training.remove_attendee(actor=_actor(), session_id=session_id, attendance_id=attendance_id)
    flash("已移除参训人员", "success")
    return redirect(url_for("training.session_detail", session_id=session_id))


@bp.get("/hours")
@permission_required("training.view")
def hours():
    actor = _actor()
    year = _year()
    unit, rows, next_after = figures.staff_hours(
        actor=actor,
        unit_id=positive_int(request.args, "unit") or actor.org_unit_id,
        year=year,
        after=positive_int(request.args, "after"),
    )
    return render_template(
        "training/hours.html", unit=unit, rows=rows, next_after=next_after, year=year, args=link_args("after"), **LABELS
    )
