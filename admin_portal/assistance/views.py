"""帮扶援助: the cases in scope, one case (details sealed, shown to handlers, every view audited) and its steps."""

from datetime import date
from urllib.parse import quote

from flask import Response, flash, redirect, render_template, request, url_for
from flask_login import current_user

from admin_portal.assistance import bp
from admin_portal.security import permission_required
from backend.assistance import attachments, rules, transitions
from backend.assistance import service as assistance_service
from backend.assistance.models import STATUSES
from backend.errors import RuleViolation, ValidationFailed
from backend.registration.windows import today_cst
from backend.veterans.queries import stations_in_scope
from backend.webutil import positive_int


def _actor():
    return current_user._get_current_object()


def _text(name, limit=2000):
    return (request.form.get(name) or "")[:limit]


def _failed(error):
    details = [v for v in (error.details or {}).values() if isinstance(v, str)]
    flash(error.message if isinstance(error, RuleViolation) or not details else "；".join(details), "danger")


@bp.route("/")
@permission_required("care.view")
def index():
    actor = _actor()
    status = request.args.get("status") if request.args.get("status") in STATUSES else None
    station_id = positive_int(request.args, "station")
    rows, next_before = assistance_service.list_cases(
        actor=actor, status=status, station_id=station_id, before=positive_int(request.args, "before")
    )
    veterans, stations = assistance_service.names(rows)
    return render_template(
        "assistance/index.html",
        rows=rows,
        next_before=next_before,
        veterans=veterans,
        station_names=stations,
        stations=stations_in_scope(actor),
        status=status,
        station_id=station_id,
        statuses=rules.STATUS_LABELS,
        categories=rules.CATEGORY_LABELS,
        yuan=rules.yuan,
        can_open=actor.can("assistance.review"),
    )


@bp.route("/pending")
@permission_required("assistance.review")
def pending():
    actor = _actor()
    rows, next_after = assistance_service.list_pending(actor=actor, after=positive_int(request.args, "after"))
    veterans, stations = assistance_service.names(rows)
    return render_template(
        "assistance/pending.html",
        rows=rows,
        next_after=next_after,
        veterans=veterans,
        station_names=stations,
        statuses=rules.STATUS_LABELS,
        categories=rules.CATEGORY_LABELS,
        funding=rules.FUNDING_LABELS,
        yuan=rules.yuan,
        four_eyes=rules.four_eyes_above(),
        today=today_cst(),
        can_review=actor.can("assistance.review"),
        can_approve=actor.can("assistance.approve"),
        me=actor.id,
    )


@bp.route("/new", methods=["GET", "POST"])
@permission_required("assistance.review")
def new():
    actor = _actor()
    source = request.form if request.method == "POST" else request.args
    query = (source.get("q") or "").strip()[:64]  # a search is POSTed, so an ID number never sits in a URL
    veteran_id = positive_int(source, "veteran")
    if request.method == "POST" and not query:
        try:
            amount = rules.parse_yuan(source.get("amount"), required=False)
            case = assistance_service.open_case(
                actor=actor,
                veteran_id=veteran_id,
                category=source.get("category"),
                description=_text("description"),
                requested_amount_fen=amount,
                channel=source.get("channel") or "counter",
            )
        except (RuleViolation, ValidationFailed) as error:
            _failed(error)
        else:
            flash("已登记帮扶申请，已通知本人", "success")
            return redirect(url_for("assistance.detail", case_id=case.id))
    found = assistance_service.find_veterans(actor=actor, query=query) if query else []
    return render_template(
        "assistance/new.html",
        query="" if query.isdigit() or len(query) == 18 else query,
        found=found,
        veteran_id=veteran_id,
        categories=rules.CATEGORY_LABELS,
        channels={"counter": "窗口受理", "visit": "走访中发现"},
    )


@bp.route("/<id:case_id>")
@permission_required("care.view")
def detail(case_id):
    actor = _actor()
    case, opened = assistance_service.view_case(actor=actor, case_id=case_id)
    events = assistance_service.timeline(case.id)
    veterans, stations = assistance_service.names([case])
    staff = assistance_service.staff_names([e.staff_id for e in events] + [case.first_approved_by_id])
    recent = rules.recent_help(case.veteran_id, exclude_id=case.id)
    return render_template(
        "assistance/detail.html",
        case=case,
        opened=opened,
        events=events,
        veteran_name=veterans.get(case.veteran_id, ""),
        station_name=stations.get(case.station_id, ""),
        staff=staff,
        recent=recent,
        attachments=assistance_service.attachments_of(case.id) if opened is not None else [],
        labels=rules.ACTION_LABELS,
        statuses=rules.STATUS_LABELS,
        categories=rules.CATEGORY_LABELS,
        channels=rules.CHANNEL_LABELS,
        funding=rules.FUNDING_LABELS,
        yuan=rules.yuan,
        four_eyes=rules.four_eyes_above(),
        today=today_cst(),
        can_review=actor.can("assistance.review"),
        can_approve=actor.can("assistance.approve"),
        me=actor.id,
    )


def _step(case_id, action, success):
    assistance_service.get_case(actor=_actor(), case_id=case_id)  # out of scope: 404 before any form check
    try:
        result = action()
    except (RuleViolation, ValidationFailed) as error:
        _failed(error)
    else:
        flash(success(result) if callable(success) else success, "success")
    return redirect(url_for("assistance.detail", case_id=case_id))


@bp.route("/<id:case_id>/review", methods=["POST"])
@permission_required("assistance.review")
def start_review(case_id):
    return _step(case_id, lambda: transitions.start_review(actor=_actor(), case_id=case_id), "已受理，已通知本人")


@bp.route("/<id:case_id>/recommend", methods=["POST"])
@permission_required("assistance.review")
def recommend(case_id):
    def act():
        amount = rules.parse_yuan(request.form.get("amount"))
        return transitions.recommend(actor=_actor(), case_id=case_id, amount_fen=amount, notes=_text("notes"))

    return _step(case_id, act, "已推荐上报服务中心审批，已通知本人")


@bp.route("/<id:case_id>/reject", methods=["POST"])
@permission_required("care.view")
def reject(case_id):
    action = lambda: transitions.reject(actor=_actor(), case_id=case_id, reason=_text("reason", 500))  # noqa: E731
    return _step(case_id, action, "已作出不予批准决定，已通知本人")


@bp.route("/<id:case_id>/approve", methods=["POST"])
@permission_required("assistance.approve")
def approve(case_id):
    def act():
        amount = rules.parse_yuan(request.form.get("amount"), required=False)
        return transitions.approve(actor=_actor(), case_id=case_id, amount_fen=amount)

    return _step(case_id, act, lambda r: "已批准，已通知本人" if r[1] else "已记录第一审批，须另一位审批人再次审批")


@bp.route("/<id:case_id>/pay", methods=["POST"])
@permission_required("assistance.approve")
def pay(case_id):
    def act():
        try:
            paid_on = date.fromisoformat((request.form.get("paid_on") or "")[:10])
        except ValueError:
            raise ValidationFailed(details={"paid_on": "请填写发放日期"}) from None
        return transitions.pay(
            actor=_actor(),
            case_id=case_id,
            amount_fen=rules.parse_yuan(request.form.get("amount")),
            paid_on=paid_on,
            payment_reference=_text("payment_reference", 64),
            funding_source=request.form.get("funding_source"),
            budget_year=positive_int(request.form, "budget_year"),
        )

    return _step(case_id, act, "已登记发放，已通知本人")


@bp.route("/<id:case_id>/close", methods=["POST"])
@permission_required("assistance.review")
def close(case_id):
    action = lambda: transitions.close(actor=_actor(), case_id=case_id, follow_up=_text("follow_up"))  # noqa: E731
    return _step(case_id, action, "已回访办结，已通知本人")


@bp.route("/<id:case_id>/attachments/<id:attachment_id>")
@permission_required("care.view")
def download_attachment(case_id, attachment_id):
    data, content_type, name = attachments.open_for_staff(actor=_actor(), case_id=case_id, attachment_id=attachment_id)
    response = Response(data, mimetype=content_type)
    # Server-set disposition with an RFC 5987 encoded name; never rendered inline as HTML.
    response.headers["Content-Disposition"] = f"attachment; filename=\"attachment\"; filename*=UTF-8''{quote(name)}"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
