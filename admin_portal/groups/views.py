"""自我服务小组 (Art. 19): groups by station, the leader and the criteria of the choice, members, activities."""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from admin_portal.security import permission_required
from backend.errors import ValidationFailed
from backend.groups import service as groups_service
from backend.groups.models import CRITERIA
from backend.orgs.scope import get_unit_in_scope
from backend.registration.windows import today_cst

bp = Blueprint("groups", __name__)

GROUP_FIELDS = ("name", "leader_id", *CRITERIA)
ACTIVITY_FIELDS = ("held_on", "title", "notes", "participants")


def _actor():
    return current_user._get_current_object()


def _id(value):
    try:
        value = int(value)
    except (TypeError, ValueError):
        return None
    return value if 0 < value < 2**62 else None


def _errors(error):
    details = error.details if isinstance(error.details, dict) else {}
    placed = {k: v for k, v in details.items() if isinstance(v, str)}
    return placed or {"form": error.message}


def _values(fields):
    return {key: request.form.get(key, "")[:2000] for key in fields}


@bp.route("/")
@permission_required("groups.manage")
def index():
    actor, station_id = _actor(), _id(request.args.get("station"))
    rows, next_after = groups_service.list_groups(
        actor=actor, station_id=station_id, after=_id(request.args.get("after"))
    )
    return render_template(
        "groups/index.html",
        rows=rows,
        next_after=next_after,
        stations=groups_service.stations_in_scope(actor),
        station_id=station_id,
    )


@bp.route("/new", methods=["GET", "POST"])
@permission_required("groups.manage")
def new():
    actor = _actor()
    source = request.form if request.method == "POST" else request.args
    stations = groups_service.stations_in_scope(actor)
    station_id = _id(source.get("station"))
    if station_id:
        get_unit_in_scope(actor, station_id)  # a station outside the scope is not found
    station_id = station_id or (stations[0].id if stations else None)
    values, errors, status = {}, {}, 200
    if request.method == "POST":
        values = _values(GROUP_FIELDS)
        try:
            group = groups_service.create_group(actor=actor, station_id=station_id, values=values)
        except ValidationFailed as error:
            errors, status = _errors(error), 422
        else:
            flash("自我服务小组已建立", "success")
            return redirect(url_for("groups.detail", group_id=group.id))
    in_scope = station_id in {s.id for s in stations}
    return render_template(
        "groups/new.html",
        stations=stations,
        station_id=station_id,
        leaders=groups_service.leader_choices(station_id) if in_scope else [],
        values=values,
        errors=errors,
        criteria=CRITERIA,
    ), status


def _render_detail(group, *, errors=None, values=None, status=200):
    return render_template(
        "groups/detail.html",
        group=group,
        members=groups_service.list_members(group),
        activities=groups_service.list_activities(group),
        choices=groups_service.member_choices(group),
        leaders=groups_service.leader_choices(group.station_id),
        criteria=CRITERIA,
        errors=errors or {},
        values=values or {},
        today=today_cst().isoformat(),
    ), status


@bp.route("/<id:group_id>")
@permission_required("groups.manage")
def detail(group_id):
    return _render_detail(groups_service.get_group(actor=_actor(), group_id=group_id))


def _post(group_id, action, message, fields=(), prefix=""):
    """Run one service write from a detail-page form; on a refusal show the page again with the messages."""
    try:
        action()
    except ValidationFailed as error:
        group = groups_service.get_group(actor=_actor(), group_id=group_id)
        errors = {prefix + k: v for k, v in _errors(error).items()}
        return _render_detail(group, errors=errors, values=_values(fields), status=422)
    flash(message, "success")
    return redirect(url_for("groups.detail", group_id=group_id))


@bp.route("/<id:group_id>/leader", methods=["POST"])
@permission_required("groups.manage")
def set_leader(group_id):
    values = _values(GROUP_FIELDS)
    return _post(
        group_id,
        lambda: groups_service.set_leader(actor=_actor(), group_id=group_id, values=values),
        "带头人及选拔条件已保存",
        GROUP_FIELDS,
    )


@bp.route("/<id:group_id>/members", methods=["POST"])
@permission_required("groups.manage")
def add_member(group_id):
    veteran_id = request.form.get("member-veteran_id")
    return _post(
        group_id,
        lambda: groups_service.add_member(actor=_actor(), group_id=group_id, veteran_id=veteran_id),
        "成员已加入",
        prefix="member-",
    )


@bp.route("/<id:group_id>/members/<id:veteran_id>/remove", methods=["POST"])
@permission_required("groups.manage")
def remove_member(group_id, veteran_id):
    return _post(
        group_id,
        lambda: groups_service.remove_member(actor=_actor(), group_id=group_id, veteran_id=veteran_id),
        "成员已移出小组",
        prefix="member-",
    )


@bp.route("/<id:group_id>/activities", methods=["POST"])
@permission_required("groups.manage")
def log_activity(group_id):
    values = _values(ACTIVITY_FIELDS)
    return _post(
        group_id,
        lambda: groups_service.log_activity(actor=_actor(), group_id=group_id, values=values),
        "活动已登记",
        ACTIVITY_FIELDS,
    )
