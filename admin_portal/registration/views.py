"""年度确认: the review queue, a submission beside last year's, approve / return / flag, talks, on-site entry."""

from datetime import date
from urllib.parse import quote

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_login import current_user

from admin_portal.exports.launch import start_export
from admin_portal.orgs.tree import unit_tree
from admin_portal.registration import forms
from admin_portal.security import permission_required
from backend.errors import RuleViolation, ValidationFailed
from backend.names import clean_name
from backend.registration import attachments, queries, review, windows
from backend.registration import content as sections
from backend.registration import service as registration_service
from backend.registration.models import ACTION_LABELS, CHANNEL_LABELS
from backend.veterans import service as veterans_service
from backend.veterans import timeline as veteran_timeline
from backend.webutil import link_args

bp = Blueprint("registration", __name__)


def _actor():
    return current_user._get_current_object()


def _year():
    """The year asked for, if it is one the system can have (2000 to next year); otherwise this year."""
    this_year = windows.today_cst().year
    year = request.args.get("year", type=int)
    return year if year is not None and 2000 <= year <= this_year + 1 else this_year


@bp.route("/")
@permission_required("registration.view")
def index():
    actor = _actor()
    tab = request.args.get("tab", "waiting")
    filters = queries.QueueFilter(
        year=_year(),
        tab=tab if tab in queries.TABS else "waiting",
        unit_id=request.args.get("unit", type=int),
        grid_id=request.args.get("grid", type=int),
        name=clean_name(request.args.get("name"))[:64] or None,
        sort="waiting_asc" if request.args.get("sort") == "waiting_asc" else "waiting_desc",
    )
    page = queries.review_queue(
        actor=actor, filters=filters, after=request.args.get("after"), before=request.args.get("before")
    )
    return render_template(
        "registration/index.html",
        page=page,
        filters=filters,
        args=link_args("after", "before"),
        total=queries.estimate_queue(actor=actor, filters=filters),
        tabs=queries.TABS,
        counts=queries.tab_counts(actor=actor, year=filters.year),
        days_waiting=queries.days_waiting,
        tree=unit_tree(actor, filters.unit_id),
        window=windows.window_for(filters.year, actor.org_unit),
        can_review=actor.can("registration.review"),
    )


@bp.route("/bulk-approve", methods=["POST"])
@permission_required("registration.review")
def bulk_approve():
    approved, changed = review.bulk_approve(actor=_actor(), items=forms.bulk_items(request.form.getlist("item")))
    flash(
        f"已通过 {len(approved)} 条" + (f"；{len(changed)} 条已被他人处理或已更新，未作变更" if changed else ""),
        "success" if not changed else "warning",
    )
    return redirect(url_for("registration.index", tab="waiting"))


@bp.route("/<id:registration_id>")
@permission_required("registration.view")
def detail(registration_id, status=200):
    actor = _actor()
    reg = review.get_for_staff(actor=actor, registration_id=registration_id)
    previous = registration_service.last_approved(reg.veteran_id, reg.year)
    return render_template(
        "registration/detail.html",
        reg=reg,
        previous=previous,
        sections=sections.SECTIONS,
        employment=sections.EMPLOYMENT,
        changed=sections.changed_sections(reg.content, previous.content if previous else {}),
        events=veteran_timeline.registration_entries(registration_service.list_events(reg)),
        talks=review.list_talks(actor=actor, registration_id=reg.id),
        channels=CHANNEL_LABELS,
        actions=ACTION_LABELS,
        attachments=attachments.list_attachments(reg.id),
        can_review=actor.can("registration.review") and reg.status == "submitted",
        can_flag=actor.can("registration.review") and reg.status != "draft",
    ), status


def _act(registration_id, action, success):
    try:
        action()
    except (RuleViolation, ValidationFailed) as error:
        flash(
            error.message
            if not error.details or isinstance(error, RuleViolation)
            else "；".join(map(str, error.details.values())),
            "danger",
        )
    else:
        flash(success, "success")
    return redirect(url_for("registration.detail", registration_id=registration_id))


@bp.route("/attachments/<id:attachment_id>")
@permission_required("registration.view")
def download_attachment(attachment_id):
    data, content_type, name = attachments.open_for_staff(actor=_actor(), attachment_id=attachment_id)
    response = Response(data, mimetype=content_type)
    # Server-set disposition with an RFC 5987 encoded name; never rendered inline as HTML.
    response.headers["Content-Disposition"] = f"attachment; filename=\"attachment\"; filename*=UTF-8''{quote(name)}"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.route("/<id:registration_id>/approve", methods=["POST"])
@permission_required("registration.review")
def approve(registration_id):
    return _act(
        registration_id,
        lambda: review.approve(
            actor=_actor(), registration_id=registration_id, expected_version=request.form.get("version", type=int) or 0
        ),
        "已审核通过，已通知本人",
    )


@bp.route("/<id:registration_id>/return", methods=["POST"])
@permission_required("registration.review")
def return_for_correction(registration_id):
    return _act(
        registration_id,
        lambda: review.return_for_correction(
            actor=_actor(),
            registration_id=registration_id,
            expected_version=request.form.get("version", type=int) or 0,
            reasons=forms.return_reasons(request.form),
        ),
        "已退回补正，已通知本人",
    )


@bp.route("/<id:registration_id>/flag", methods=["POST"])
@permission_required("registration.review")
def flag(registration_id):
    return _act(
        registration_id,
        lambda: review.flag_concern(
            actor=_actor(),
            registration_id=registration_id,
            concern=request.form.get("concern"),
            scheduled_at=forms.parse_local_datetime(request.form.get("scheduled_at")),
            place=request.form.get("place"),
        ),
        "已记录关注事项并安排约谈，已通知本人",
    )


@bp.route("/talks/<id:talk_id>/record", methods=["POST"])
@permission_required("registration.review")
def record_talk(talk_id):
    talk = review.get_talk(actor=_actor(), talk_id=talk_id)
    return _act(
        talk.registration_id,
        lambda: review.record_talk(
            actor=_actor(),
            talk_id=talk_id,
            outcome=request.form.get("outcome"),
            held=request.form.get("held", "1") == "1",
        ),
        "约谈情况已记录",
    )


@bp.route("/onsite/<id:veteran_id>", methods=["GET", "POST"])
@permission_required("registration.enter")
def onsite(veteran_id):
    """On-site entry. A submitted or approved registration is shown read-only (a POST to it is refused, 409); errors
    are shown beside their fields, all at once, with every input kept."""
    actor = _actor()
    veteran = veterans_service.get_veteran(actor=actor, veteran_id=veteran_id)
    year = windows.today_cst().year
    reg = registration_service.find_registration(veteran.id, year)
    if reg is not None and reg.status in forms.LOCKED_STATUSES:
        return _onsite_locked(reg, refused=request.method == "POST")
    # An overdue veteran's form is prefilled like the phone's: last year's approved answers and the travel reports.
    content = registration_service.working_content(veteran, reg, year)
    reopened = set(reg.return_reasons) | {"declaration"} if reg and reg.status == "returned" else None
    values, errors, stray = forms.values_from_content(content), {}, None
    phone_on_file = (content.get("contact") or {}).get("phone") or veteran.phone or ""
    if request.method == "POST":
        submitting = request.form.get("action") == "submit"
        values = forms.kept_values(request.form, content, only=reopened)
        entered, row_of = forms.onsite_content(
            request.form, existing=content, phone_on_file=phone_on_file, submitting=submitting, only=reopened
        )
        try:
            reg = registration_service.enter_onsite(
                actor=actor, veteran_id=veteran.id, content=entered, submit_now=submitting
            )
        except (ValidationFailed, RuleViolation) as error:
            now = registration_service.find_registration(veteran.id, year)
            if now is not None and now.status in forms.LOCKED_STATUSES:  # submitted meanwhile by someone else
                return _onsite_locked(now, refused=True)
            errors, unplaced = forms.place_errors(error.details, row_of)
            stray = error.message if unplaced or not errors else None
        else:
            flash("已提交，等待审核" if reg.status == "submitted" else "已保存草稿", "success")
            return redirect(url_for("registration.detail", registration_id=reg.id))
    return render_template(
        "registration/onsite.html",
        veteran=veteran,
        reg=reg,
        values=values,
        destinations=forms.destination_choices(forms.values_from_content(content)["trips"]),
        phone_on_file=phone_on_file,
        reopened=reopened,
        errors=errors,
        stray=stray,
        sections=sections.SECTIONS,
        employment=sections.EMPLOYMENT,
        year=year,
    ), 422 if errors or stray else 200


def _onsite_locked(reg, refused):
    """The registration read-only, with its status in Chinese and the way to its review page."""
    return render_template(
        "registration/onsite_locked.html",
        reg=reg,
        refused=refused,
        sections=sections.SECTIONS,
        employment=sections.EMPLOYMENT,
    ), 409 if refused else 200


@bp.route("/windows", methods=["GET", "POST"])
@permission_required("registration.windows")
def windows_admin():
    actor, year = _actor(), _year()
    errors = {}
    if request.method == "POST":
        unit_id = request.form.get("unit_id") or None  # garbage or a unit out of scope: 404 like a missing one
        try:
            closes_on = date.fromisoformat(request.form.get("closes_on", ""))
        except ValueError:
            errors = {"closes_on": "请选择截止日期"}
        else:
            try:
                windows.set_window(actor=actor, year=year, closes_on=closes_on, unit_id=unit_id)
            except ValidationFailed as error:
                errors = error.details or {"closes_on": error.message}
            else:
                flash("办理时间已更新", "success")
                return redirect(url_for("registration.windows_admin", year=year))
        flash("；".join(map(str, errors.values())), "danger")
    root = actor.org_unit.parent_id is None
    return render_template(
        "registration/windows.html",
        year=year,
        rows=windows.list_windows(actor=actor, year=year),
        current=windows.window_for(year, None if root else actor.org_unit),
        root=root,
        units=windows.extension_units(actor=actor),
        errors=errors,
        form=request.form if request.method == "POST" else None,
    ), 422 if errors else 200


@bp.route("/figures")
@permission_required("registration.view")
def figures():
    own, children = queries.figures(actor=_actor(), year=_year(), unit_id=request.args.get("unit", type=int))
    return render_template(
        "registration/figures.html", own=own, children=children, year=_year(), tree=unit_tree(_actor(), own.unit.id)
    )


@bp.route("/figures/export", methods=["POST"])
@permission_required("registration.view")
def figures_export():
    """exports slice (issue 12): queue the figures' export (year and unit as form fields) and go to 我的导出."""
    return start_export("registration_figures", {"year": request.form.get("year"), "unit": request.form.get("unit")})
