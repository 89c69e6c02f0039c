"""Lookup and copy requests (filed, decided by another person, the lookup recorded) and the permanent log (per archive
and searched in scope). The log is read-only: there is no route that changes or removes a row."""

from datetime import date

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from admin_portal.archives import bp
from admin_portal.archives.views import failed
from admin_portal.security import permission_required
from backend.archives import common
from backend.archives import log as archive_log
from backend.archives import requests as archive_requests
from backend.archives.models import LOG_EVENTS, Archive
from backend.errors import RuleViolation, ValidationFailed
from backend.extensions import db
from backend.webutil import link_args, positive_int


def _actor():
    return current_user._get_current_object()


@bp.route("/<id:archive_id>/requests", methods=["POST"])
@permission_required("archives.request")
def file_request(archive_id):
    common.get_archive(actor=_actor(), archive_id=archive_id, permission="archives.request")
    try:
        archive_requests.file_request(
            actor=_actor(),
            archive_id=archive_id,
            kind=request.form.get("kind"),
            requester_kind=request.form.get("requester_kind"),
            requester_name=request.form.get("requester_name"),
            requester_unit=request.form.get("requester_unit"),
            purpose=request.form.get("purpose"),
            item_ids=request.form.getlist("item")[:200],
        )
    except (RuleViolation, ValidationFailed) as error:
        failed(error)
    else:
        flash("申请已登记，待服务中心审批", "success")
    return redirect(url_for("archives.detail", archive_id=archive_id))


def _step(request_id, action, success):
    found = common.get_request(actor=_actor(), request_id=request_id)  # out of scope: 404 before any form check
    try:
        action()
    except (RuleViolation, ValidationFailed) as error:
        failed(error)
    else:
        flash(success, "success")
    if request.form.get("back") == "requests":
        return redirect(url_for("archives.requests", state="pending"))
    return redirect(url_for("archives.detail", archive_id=found.archive_id))


@bp.route("/requests/<id:request_id>/approve", methods=["POST"])
@permission_required("archives.approve")
def approve(request_id):
    act = lambda: archive_requests.decide(actor=_actor(), request_id=request_id, approve=True)  # noqa: E731
    return _step(request_id, act, "已批准，可安排查阅")


@bp.route("/requests/<id:request_id>/reject", methods=["POST"])
@permission_required("archives.approve")
def reject(request_id):
    def act():
        note = request.form.get("note")
        return archive_requests.decide(actor=_actor(), request_id=request_id, approve=False, note=note)

    return _step(request_id, act, "已作出不予批准决定")


@bp.route("/requests/<id:request_id>/cancel", methods=["POST"])
@permission_required("archives.request")
def cancel(request_id):
    act = lambda: archive_requests.cancel(actor=_actor(), request_id=request_id, reason=request.form.get("reason"))  # noqa: E731
    return _step(request_id, act, "申请已撤销")


@bp.route("/requests/<id:request_id>/done", methods=["POST"])
@permission_required("archives.request")
def record_lookup(request_id):
    act = lambda: archive_requests.record_lookup(  # noqa: E731
        actor=_actor(), request_id=request_id, copied=request.form.get("copied")
    )
    return _step(request_id, act, "已登记查阅情况，申请办结")


@bp.route("/requests")
@permission_required("archives.view")
def requests():
    actor = _actor()
    state = "pending" if request.args.get("state") == "pending" else None
    rows, cursor = archive_requests.list_requests(
        actor=actor,
        state=state,
        after=positive_int(request.args, "after"),
        before=positive_int(request.args, "before"),
    )
    archives = {a.id: a for a in db.session.query(Archive).filter(Archive.id.in_({r.archive_id for r in rows}))}
    return render_template(
        "archives/requests.html",
        rows=rows,
        cursor=cursor,
        state=state,
        archives=archives,
        veterans=common.veteran_names([a.veteran_id for a in archives.values()]),
        staff=common.staff_names([r.requested_by_id for r in rows] + [r.decided_by_id for r in rows]),
        kinds=common.KIND_LABELS,
        request_states=common.REQUEST_STATE_LABELS,
        can_approve=actor.can("archives.approve"),
        me=actor.id,
    )


@bp.route("/<id:archive_id>/log")
@permission_required("archives.view")
def archive_log_page(archive_id):
    archive, rows, next_before = archive_log.archive_log(
        actor=_actor(), archive_id=archive_id, before=positive_int(request.args, "before")
    )
    return render_template(
        "archives/log.html",
        archive=archive,
        veteran_name=common.veteran_names([archive.veteran_id]).get(archive.veteran_id, ""),
        rows=[(r, None) for r in rows],
        next_before=next_before,
        events=common.EVENT_LABELS,
        filters=None,
        args={},
    )


def _day(name):
    """A filter date, or None: bounded so that the day after it and its CST midnight never overflow."""
    try:
        day = date.fromisoformat((request.args.get(name) or "").strip()[:10])
    except ValueError:
        return None
    return day if 2000 <= day.year <= 2100 else None


@bp.route("/log")
@permission_required("archives.view")
def log_search():
    event = request.args.get("event") if request.args.get("event") in LOG_EVENTS else None
    date_from, date_to = _day("from"), _day("to")
    rows, next_before = archive_log.search_log(
        actor=_actor(),
        event=event,
        date_from=date_from,
        date_to=date_to,
        before=positive_int(request.args, "before"),
    )
    return render_template(
        "archives/log.html",
        archive=None,
        rows=rows,
        next_before=next_before,
        events=common.EVENT_LABELS,
        filters={"event": event, "from": date_from, "to": date_to},
        args=link_args("before"),
    )
