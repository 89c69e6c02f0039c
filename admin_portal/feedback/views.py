"""评价与投诉: the feedback cases handled in scope (never those about the viewer), the ratings' figures of a period,
one case (texts for handlers, every view audited) and its steps."""

from datetime import date, timedelta
from urllib.parse import quote

from flask import Response, flash, redirect, render_template, request, url_for
from flask_login import current_user

from admin_portal.feedback import bp
from admin_portal.security import permission_required
from backend.errors import RuleViolation, ValidationFailed
from backend.feedback import cases, complaints, handling, rules
from backend.feedback.models import SATISFIED_MIN, SCORES, Complaint, Rating
from backend.registration.windows import today_cst
from backend.webutil import positive_int


def _actor():
    return current_user._get_current_object()


def _date(name, default):
    try:
        return date.fromisoformat((request.args.get(name) or "")[:10])
    except ValueError:
        return default


def _failed(error):
    details = [v for v in (error.details or {}).values() if isinstance(v, str)]
    flash(error.message if isinstance(error, RuleViolation) or not details else "；".join(details), "danger")


@bp.get("/")
@permission_required("feedback.view")
def index():
    actor = _actor()
    state = request.args.get("state") if request.args.get("state") in rules.STATE_LABELS else None
    overdue = request.args.get("overdue") == "1"
    today = today_cst()
    last = _date("to", today)
    first = _date("from", last - timedelta(days=29))
    if first > last or (last - first).days > 366:
        first = last - timedelta(days=29)
    rows, next_before = cases.list_cases(
        actor=actor, state=state, overdue=overdue, before=positive_int(request.args, "before")
    )
    veterans, units, staff = cases.names(rows)
    counts = cases.score_counts(actor=actor, first=first, last=last)
    closed, in_time = cases.closed_figures(actor=actor, first=first, last=last)
    rated = sum(c.value for c in counts.values())
    capped = any(c.capped for c in counts.values())
    return render_template(
        "feedback/index.html",
        rows=rows,
        next_before=next_before,
        veterans=veterans,
        units=units,
        state=state,
        overdue=overdue,
        states=rules.STATE_LABELS,
        today=today,
        first=first,
        last=last,
        counts=counts,
        scores=SCORES,
        rated=rated,
        satisfied=sum(c.value for score, c in counts.items() if score >= SATISFIED_MIN),
        capped=capped,
        closed=closed,
        in_time=in_time,
        revisits=rules.REVISIT_LABELS,
        can_handle=actor.can("feedback.handle"),
    )


@bp.get("/<id:case_id>")
@permission_required("feedback.view")
def detail(case_id):
    actor = _actor()
    case, texts = cases.view_case(actor=actor, case_id=case_id)
    events = cases.timeline(case.id)
    veterans, units, staff = cases.names([case], events)
    source = cases.source_of(case)
    return render_template(
        "feedback/detail.html",
        case=case,
        texts=texts,
        events=events,
        veteran_name=veterans.get(case.veteran_id, ""),
        units=units,
        staff=staff,
        rating=source if isinstance(source, Rating) else None,
        complaint=source if isinstance(source, Complaint) else None,
        attachments=cases.attachments_of_case(case) if texts is not None else [],
        colleagues=cases.colleagues(case) if actor.can("feedback.handle") else [],
        can_handle=actor.can("feedback.handle") and case.state != "closed",
        states=rules.STATE_LABELS,
        events_labels=rules.EVENT_LABELS,
        revisits=rules.REVISIT_LABELS,
        subjects=rules.SUBJECT_LABELS,
        kinds=rules.KIND_LABELS,
        scores=SCORES,
        today=today_cst(),
        me=actor.id,
    )


def _step(case_id, action, success):
    cases.get_case(actor=_actor(), case_id=case_id, permission="feedback.handle")  # 404 before any form check
    try:
        action()
    except (RuleViolation, ValidationFailed) as error:
        _failed(error)
    else:
        flash(success, "success")
    return redirect(url_for("feedback.detail", case_id=case_id))


def _version():
    return positive_int(request.form, "version")


@bp.post("/<id:case_id>/assign")
@permission_required("feedback.handle")
def assign(case_id):
    def act():
        me = (request.form.get("assignee") or "") == "me"
        return handling.assign(
            actor=_actor(),
            case_id=case_id,
            assignee_id=_actor().id if me else positive_int(request.form, "assignee"),
            expected_version=_version(),
        )

    return _step(case_id, act, "已指派办理人")


@bp.post("/<id:case_id>/contact")
@permission_required("feedback.handle")
def contact(case_id):
    note = (request.form.get("note") or "")[: rules.NOTE_MAX + 1]
    action = lambda: handling.record_contact(  # noqa: E731
        actor=_actor(), case_id=case_id, note=note, expected_version=_version()
    )
    return _step(case_id, action, "已记录联系情况")


@bp.post("/<id:case_id>/resolve")
@permission_required("feedback.handle")
def resolve(case_id):
    outcome = (request.form.get("outcome") or "")[: rules.NOTE_MAX + 1]
    action = lambda: handling.resolve(  # noqa: E731
        actor=_actor(), case_id=case_id, outcome=outcome, expected_version=_version()
    )
    return _step(case_id, action, "已登记办理结果，已通知本人，请按期回访")


@bp.post("/<id:case_id>/revisit")
@permission_required("feedback.handle")
def revisit(case_id):
    result = request.form.get("result")
    action = lambda: handling.revisit(  # noqa: E731
        actor=_actor(), case_id=case_id, result=result, expected_version=_version()
    )
    return _step(case_id, action, "已登记回访结果")


@bp.get("/<id:case_id>/attachments/<id:attachment_id>")
@permission_required("feedback.handle")
def download_attachment(case_id, attachment_id):
    data, content_type, name = complaints.open_for_staff(actor=_actor(), case_id=case_id, attachment_id=attachment_id)
    response = Response(data, mimetype=content_type)
    response.headers["Content-Disposition"] = f"attachment; filename=\"attachment\"; filename*=UTF-8''{quote(name)}"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
