"""Compose, preview, schedule, approve and send care notifications (center staff)."""

import re
from datetime import UTC, datetime

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from admin_portal.notifications import bp
from admin_portal.security import permission_required
from backend.errors import RuleViolation, ValidationFailed
from backend.extensions import db
from backend.notifications import compose, recipients, reports
from backend.notifications.kinds import KIND_LABELS, NOTIFICATION_STATUS_LABELS
from backend.notifications.render import STAFF_VARIABLES
from backend.orgs.models import OrgUnit
from backend.orgs.scope import scoped
from backend.registration.windows import CST, today_cst

MAX_UNITS = 500  # the unit picker lists the sender's subtree down to stations (grids: their own list)


def _actor():
    return current_user._get_current_object()


def _id_arg(name):
    value = request.args.get(name, type=int)
    return value if value and 0 < value < 2**63 else None


def _errors(error):
    details = {k: v for k, v in (error.details or {}).items() if isinstance(v, str)}
    return details or {"form": error.message}


@bp.route("/")
@permission_required("notifications.view")
def index():
    page = compose.list_notifications(actor=_actor(), after=_id_arg("after"), before=_id_arg("before"))
    return render_template(
        "notifications/index.html",
        page=page,
        statuses=NOTIFICATION_STATUS_LABELS,
        kinds=KIND_LABELS,
        can_send=_actor().can("notifications.send"),
    )


# --- compose


def _units(actor, level_filter):
    query = scoped(select(OrgUnit).where(level_filter), actor, OrgUnit.id).order_by(OrgUnit.path).limit(MAX_UNITS)
    return db.session.scalars(query).all()


def _form_audience(form):
    """The audience filter as the form states it ({} when recipients are only picked)."""
    if form.get("use_filter") != "1":
        return {}
    audience = {"unit_id": form.get("unit") or None, "grid_id": form.get("grid") or None}
    if form.get("party_member") in ("1", "0"):
        audience["party_member"] = form["party_member"] == "1"
    if form.get("reg_status"):
        year = form.get("reg_year", "").strip()
        # ASCII digits only ("²".isdigit() is True, int("²") raises): anything else is refused by clean_audience
        year = int(year) if re.fullmatch(r"[0-9]{1,4}", year) else year
        audience["registration"] = {"year": year, "status": form["reg_status"]}
    if form.get("overdue_trip") == "1":
        audience["overdue_trip"] = True
    if form.get("wechat"):
        audience["wechat"] = form["wechat"]
    tags = [t for t in form.get("tags", "").replace("，", " ").replace(",", " ").split() if t]
    if tags:
        audience["tags"] = tags
    return audience


def _form_state(notification):
    """The form's values for editing `notification`."""
    audience = notification.audience or {}
    reg = audience.get("registration") or {}
    party = audience.get("party_member")
    return {
        "title": notification.title,
        "body": notification.body,
        "use_filter": "1" if audience else "",
        "unit": audience.get("unit_id", ""),
        "grid": audience.get("grid_id", ""),
        "party_member": "" if party is None else ("1" if party else "0"),
        "reg_year": reg.get("year", ""),
        "reg_status": reg.get("status", ""),
        "overdue_trip": "1" if audience.get("overdue_trip") else "",
        "wechat": audience.get("wechat", ""),
        "tags": " ".join(audience.get("tags", [])),
        "keep_picks": "1",
    }


def _compose_page(notification, form, errors, upload=None):
    actor = _actor()
    picked = len(recipients.pick_ids(notification.id)) if notification else 0
    return render_template(
        "notifications/compose.html",
        notification=notification,
        form=form,
        errors=errors,
        upload=upload,
        picked=picked,
        units=_units(actor, OrgUnit.level != "grid"),
        grids=_units(actor, OrgUnit.level == "grid"),
        reg_states=recipients.REGISTRATION_STATES,
        wechat_states=recipients.WECHAT_STATES,
        variables=STAFF_VARIABLES,
        this_year=today_cst().year,
    ), 422 if errors else 200


def _save(notification):
    form = request.form
    pick_ids = form.getlist("pick")
    if notification is not None and form.get("keep_picks") == "1":
        pick_ids = pick_ids + [str(i) for i in recipients.pick_ids(notification.id)]
    try:
        numbers = compose.tokens(form.get("id_numbers", ""))
        upload = request.files.get("id_file")
        if upload and upload.filename:
            numbers += compose.id_numbers_from_upload(upload.filename, upload.read(compose.MAX_UPLOAD_BYTES + 1))
        saved, report = compose.save_draft(
            actor=_actor(),
            notification_id=notification.id if notification else None,
            title=form.get("title", ""),
            body=form.get("body", ""),
            audience=_form_audience(form),
            pick_ids=pick_ids,
            id_numbers=numbers,
        )
    except (ValidationFailed, RuleViolation) as error:
        return _compose_page(notification, form, _errors(error))
    if numbers:
        flash(
            f"名单中匹配 {report['matched']} 人；{recipients.NOT_FOUND_TEXT} {report['not_found']} 个；"
            f"号码格式有误 {report['invalid']} 个",
            "info",
        )
    flash("草稿已保存，请预览后发送", "success")
    return redirect(url_for("notifications.preview", notification_id=saved.id))


@bp.route("/new", methods=["GET", "POST"])
@permission_required("notifications.send")
def create():
    if request.method == "POST":
        return _save(None)
    return _compose_page(None, {"use_filter": "1", "reg_year": today_cst().year}, {})


@bp.route("/<id:notification_id>/edit", methods=["GET", "POST"])
@permission_required("notifications.send")
def edit(notification_id):
    notification = compose.get_notification(actor=_actor(), notification_id=notification_id)
    if notification.status not in compose.EDITABLE:
        flash(compose.NotEditable.message, "warning")
        return redirect(url_for("notifications.detail", notification_id=notification.id))
    if request.method == "POST":
        return _save(notification)
    return _compose_page(notification, _form_state(notification), {})


@bp.route("/pick-search")
@permission_required("notifications.send")
def pick_search():
    """htmx: veterans within scope whose name starts with q, as checkboxes to pick. Without htmx: the compose page."""
    if not request.headers.get("HX-Request"):
        return redirect(url_for("notifications.create"))
    rows = recipients.search(_actor(), request.args.get("q", ""))
    return render_template("notifications/_compose_picks.html", rows=rows, q=request.args.get("q", "")[:64])


# --- preview, send, detail, actions


@bp.route("/<id:notification_id>/preview")
@permission_required("notifications.send")
def preview(notification_id):
    actor = _actor()
    notification = compose.get_notification(actor=actor, notification_id=notification_id)
    return render_template(
        "notifications/preview.html",
        notification=notification,
        preview=compose.preview(actor=actor, notification=notification),
        threshold=_threshold(),
        errors={},
        min_time=datetime.now(UTC).astimezone(CST).strftime("%Y-%m-%dT%H:%M"),
    )


def _threshold():
    return current_app.config["NOTIFY_APPROVAL_THRESHOLD"]


def parse_cst(text):
    """A datetime-local value ("2026-11-27T09:30") read as China Standard Time, in UTC; None for empty.

    :raises ValidationFailed:
    """
    if not (text or "").strip():
        return None
    try:
        local = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValidationFailed(details={"send_at": "请填写正确的发送时间"}) from None
    try:
        if local.tzinfo is not None:
            raise ValueError
        return local.replace(tzinfo=CST).astimezone(UTC)
    except (ValueError, OverflowError):
        raise ValidationFailed(details={"send_at": "请填写正确的发送时间"}) from None


@bp.route("/<id:notification_id>/submit", methods=["POST"])
@permission_required("notifications.send")
def submit(notification_id):
    try:
        send_at = parse_cst(request.form.get("send_at")) if request.form.get("when") == "later" else None
        if request.form.get("when") == "later" and send_at is None:
            raise ValidationFailed(details={"send_at": "请选择定时发送的时间"})
        notification = compose.submit(actor=_actor(), notification_id=notification_id, send_at=send_at)
    except (ValidationFailed, RuleViolation) as error:
        flash("；".join(_errors(error).values()), "danger")
        return redirect(url_for("notifications.preview", notification_id=notification_id))
    messages = {
        "sending": "通知已开始发送",
        "scheduled": "通知将按设定时间发送",
        "pending_approval": "收件人较多，已提交审批（四眼原则），审批通过后发送",
    }
    flash(messages.get(notification.status, "已提交"), "success")
    return redirect(url_for("notifications.detail", notification_id=notification.id))


@bp.route("/<id:notification_id>")
@permission_required("notifications.view")
def detail(notification_id):
    actor = _actor()
    notification = compose.get_notification(actor=actor, notification_id=notification_id)
    people = _staff_names(notification)
    staff_send = actor.can("notifications.send") and notification.source == "staff"
    return render_template(
        "notifications/detail.html",
        notification=notification,
        statuses=NOTIFICATION_STATUS_LABELS,
        kinds=KIND_LABELS,
        people=people,
        sender=db.session.get(OrgUnit, notification.sender_unit_id) if notification.sender_unit_id else None,
        reason=compose.rejection_reason(notification),
        can_edit=staff_send and notification.status in compose.EDITABLE,
        can_cancel=staff_send and notification.status in compose.CANCELLABLE,
        can_approve=actor.can("notifications.approve")
        and notification.status == "pending_approval"
        and not compose.is_author(notification, actor),
        report=reports.summary(notification),
    )


def _staff_names(notification):
    from backend.staff.models import Staff

    ids = [i for i in (notification.created_by_id, notification.approved_by_id) if i]
    return {s.id: s.full_name for s in db.session.scalars(select(Staff).where(Staff.id.in_(ids)))} if ids else {}


def _act(notification_id, action, done, **kwargs):
    try:
        action(actor=_actor(), notification_id=notification_id, **kwargs)
    except (ValidationFailed, RuleViolation) as error:
        flash("；".join(_errors(error).values()), "danger")
    else:
        flash(done, "success")
    return redirect(url_for("notifications.detail", notification_id=notification_id))


@bp.route("/<id:notification_id>/cancel", methods=["POST"])
@permission_required("notifications.send")
def cancel(notification_id):
    return _act(notification_id, compose.cancel, "通知已取消，不会发送")


@bp.route("/<id:notification_id>/approve", methods=["POST"])
@permission_required("notifications.approve")
def approve(notification_id):
    return _act(notification_id, compose.approve, "已审批通过")


@bp.route("/<id:notification_id>/reject", methods=["POST"])
@permission_required("notifications.approve")
def reject(notification_id):
    return _act(notification_id, compose.reject, "已退回，不会发送", reason=request.form.get("reason", ""))
