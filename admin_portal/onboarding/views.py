"""接收安置 (Art. 7): the open cases in scope, opening a case (for a registered veteran or with the veteran's record),
and the one screen where every step of a case is worked. Thin: backend/onboarding owns the rules."""

from datetime import date, datetime
from urllib.parse import quote

from flask import Response, flash, redirect, render_template, request, url_for
from flask_login import current_user

from admin_portal.onboarding import bp
from admin_portal.security import accepts_upload, permission_required
from backend.errors import RuleViolation, ValidationFailed
from backend.onboarding import attachments, rules, steps
from backend.onboarding import service as onboarding_service
from backend.onboarding.models import COORDINATED
from backend.registration.windows import CST, today_cst
from backend.veterans.queries import grids_in_scope, stations_in_scope
from backend.webutil import positive_int

VETERAN_FIELDS = ("name", "id_number", "phone", "address", "grid_worker")


def _actor():
    return current_user._get_current_object()


def _text(name, limit=500):
    return (request.form.get(name) or "")[:limit]


def _date(name):
    try:
        return date.fromisoformat((request.form.get(name) or "")[:10])
    except ValueError:
        return None


def _failed(error):
    details = [v for v in (error.details or {}).values() if isinstance(v, str)]
    flash(error.message if isinstance(error, RuleViolation) or not details else "；".join(details), "danger")


@bp.route("/")
@permission_required("onboarding.view")
def index():
    actor = _actor()
    status = request.args.get("status") if request.args.get("status") in ("open", "closed") else "open"
    station_id = positive_int(request.args, "station")
    overdue = request.args.get("overdue") == "1"
    rows, next_before = onboarding_service.list_cases(
        actor=actor, status=status, station_id=station_id, overdue=overdue, before=positive_int(request.args, "before")
    )
    veterans, stations = onboarding_service.names(rows)
    return render_template(
        "onboarding/index.html",
        rows=rows,
        next_before=next_before,
        veterans=veterans,
        station_names=stations,
        stations=stations_in_scope(actor),
        progress=onboarding_service.progress([r.id for r in rows]),
        status=status,
        station_id=station_id,
        overdue=overdue,
        statuses=rules.STATUS_LABELS,
        can_open=actor.can("onboarding.manage"),
    )


def _case_fields():
    return {
        "arrived_on": _date("arrived_on"),
        "notice_number": _text("notice_number", 64),
        # a date that does not parse goes to the service as typed, which answers with the field's error
        "notice_date": (_date("notice_date") or request.form["notice_date"][:10])
        if request.form.get("notice_date")
        else None,
    }


@bp.route("/new", methods=["GET", "POST"])
@permission_required("onboarding.manage")
def new():
    actor = _actor()
    source = request.form if request.method == "POST" else request.args
    mode = source.get("mode") or ""
    query = (source.get("q") or "").strip()[:64] if mode == "search" else ""  # POSTed: an ID number stays out of URLs
    veteran_id = positive_int(source, "veteran")
    if request.method == "POST" and mode in ("existing", "create"):
        try:
            if mode == "existing":
                case = onboarding_service.open_case(actor=actor, veteran_id=veteran_id, **_case_fields())
            else:
                case = onboarding_service.open_case_for_new_veteran(
                    actor=actor,
                    veteran_fields={
                        **{k: _text(k, 200) for k in VETERAN_FIELDS},
                        "party_member": request.form.get("party_member") == "1",
                    },
                    station_id=positive_int(request.form, "station_id"),
                    grid_id=positive_int(request.form, "grid_id"),
                    **_case_fields(),
                )
        except (RuleViolation, ValidationFailed) as error:
            _failed(error)
        else:
            flash("已建立接收安置一站式办理", "success")
            return redirect(url_for("onboarding.detail", case_id=case.id))
    veteran = None
    if veteran_id:
        from backend.veterans.service import get_veteran

        veteran = get_veteran(actor=actor, veteran_id=veteran_id)
    found = onboarding_service.find_veterans(actor=actor, query=query) if query else []
    return render_template(
        "onboarding/new.html",
        query="" if query.isdigit() or len(query) == 18 else query,
        searched=bool(query),
        found=found,
        veteran=veteran,
        existing=onboarding_service.case_of_veteran(veteran.id) if veteran else None,
        stations=stations_in_scope(actor),
        grids=grids_in_scope(actor),
        can_register=actor.can("veterans.edit"),
        today=today_cst(),
    )


@bp.route("/<id:case_id>")
@permission_required("onboarding.view")
def detail(case_id):
    actor = _actor()
    case = onboarding_service.get_case(actor=actor, case_id=case_id)
    items = onboarding_service.steps_of(case.id)
    events = onboarding_service.events_of(case.id)
    veterans, stations = onboarding_service.names([case])
    staff = onboarding_service.staff_names(
        [e.staff_id for e in events] + [s.handler_id for s in items] + [case.opened_by_id, case.closed_by_id]
    )
    today = today_cst()
    return render_template(
        "onboarding/detail.html",
        case=case,
        items=items,
        events=events,
        files=onboarding_service.attachments_by_step(case.id),
        veteran_name=veterans.get(case.veteran_id, ""),
        station_name=stations.get(case.station_id, ""),
        staff=staff,
        overdue={s.id for s in items if onboarding_service.is_overdue(s, today)},
        open_required=rules.open_required(items),
        ceremony=_ceremony(case),
        labels=rules.STEP_LABELS,
        states=rules.STATE_LABELS,
        statuses=rules.STATUS_LABELS,
        event_labels=rules.EVENT_LABELS,
        moves=rules.MOVES,
        coordinated=COORDINATED,
        can_manage=actor.can("onboarding.manage") and case.status == "open",
        today=today,
    )


def _ceremony(case):
    if case.ceremony_id is None:
        return None
    from backend.extensions import db
    from backend.honors.models import Ceremony

    return db.session.get(Ceremony, case.ceremony_id)


def _act(case_id, action, success):
    onboarding_service.get_case(actor=_actor(), case_id=case_id)  # out of scope: 404 before any form check
    try:
        action()
    except (RuleViolation, ValidationFailed) as error:
        _failed(error)
    else:
        flash(success, "success")
    return redirect(url_for("onboarding.detail", case_id=case_id))


@bp.route("/<id:case_id>/steps/<step>/state", methods=["POST"])
@permission_required("onboarding.manage")
def set_state(case_id, step):
    to_state = request.form.get("to_state") or ""

    def act():
        return steps.set_state(
            actor=_actor(),
            case_id=case_id,
            step=step,
            to_state=to_state,
            version=positive_int(request.form, "version"),
            note=_text("note"),
        )

    label = rules.STATE_LABELS.get(to_state, "")
    return _act(case_id, act, f"{rules.STEP_LABELS.get(step, '')}：已改为{label}")


@bp.route("/<id:case_id>/steps/<step>/coordination", methods=["POST"])
@permission_required("onboarding.manage")
def coordination(case_id, step):
    def act():
        return steps.record_coordination(
            actor=_actor(),
            case_id=case_id,
            step=step,
            contact_party=_text("contact_party", 100),
            contacted_on=_date("contacted_on"),
            result=_text("coordination_result"),
            version=positive_int(request.form, "version"),
        )

    return _act(case_id, act, "已登记协调情况")


@bp.route("/<id:case_id>/steps/<step>/attachments", methods=["POST"])
@accepts_upload(attachments.MAX_BYTES)
@permission_required("onboarding.manage")
def upload(case_id, step):
    upload = request.files.get("file")

    def act():
        return attachments.add_attachment(
            actor=_actor(),
            case_id=case_id,
            step=step,
            filename=upload.filename if upload else "",
            data=upload.read(attachments.MAX_BYTES + 1) if upload else b"",
        )

    return _act(case_id, act, "证明材料已上传")


@bp.route("/<id:case_id>/attachments/<id:attachment_id>")
@permission_required("onboarding.view")
def download(case_id, attachment_id):
    data, content_type, name = attachments.open_for_staff(actor=_actor(), case_id=case_id, attachment_id=attachment_id)
    response = Response(data, mimetype=content_type)
    response.headers["Content-Disposition"] = f"attachment; filename=\"attachment\"; filename*=UTF-8''{quote(name)}"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.route("/<id:case_id>/welcome", methods=["POST"])
@permission_required("onboarding.manage")
def welcome(case_id):
    def act():
        try:
            held_at = datetime.fromisoformat((request.form.get("held_at") or "")[:16]).replace(tzinfo=CST)
        except ValueError:
            held_at = None
        return steps.record_welcome(
            actor=_actor(),
            case_id=case_id,
            held_at=held_at,
            place=_text("place", 100),
            attendees=_text("attendees"),
            version=positive_int(request.form, "version"),
        )

    return _act(case_id, act, "已登记欢迎仪式")


@bp.route("/<id:case_id>/close", methods=["POST"])
@permission_required("onboarding.manage")
def close(case_id):
    def act():
        return steps.close_case(
            actor=_actor(), case_id=case_id, summary=_text("summary"), version=positive_int(request.form, "version")
        )

    return _act(case_id, act, "接收安置已办结")
