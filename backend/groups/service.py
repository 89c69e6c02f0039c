"""Self-service groups (自我服务小组, Art. 19): a station's groups, their leader (带头人) and the criteria of the
choice, members and activities. Staff with groups.manage act in their data scope; a leader reads their own groups
on the phone."""

from datetime import date

from sqlalchemy import func, select

from backend import pii
from backend.audit import service as audit_service
from backend.db import transaction
from backend.errors import NotFound, ValidationFailed
from backend.extensions import db
from backend.groups.models import CRITERIA, SelfGroup, SelfGroupActivity, SelfGroupMember
from backend.orgs.models import OrgUnit
from backend.orgs.scope import get_scoped, get_unit_in_scope, require_permission
from backend.registration.windows import today_cst
from backend.veterans.models import Veteran

PAGE = 20
MAX_MEMBER_CHOICES = 500  # the member picker lists at most this many veterans of the station, by name


class GroupNotFound(NotFound):
    code = "groups.not_found"
    message = "未找到该自我服务小组"


def stations_in_scope(actor):
    """The stations of the actor's subtree, by path (the portal's picker)."""
    return db.session.scalars(
        select(OrgUnit)
        .where(OrgUnit.path.startswith(actor.scope_path, autoescape=True), OrgUnit.level == "station")
        .order_by(OrgUnit.path)
    ).all()


def list_groups(*, actor, station_id=None, after=None, limit=PAGE):
    """Groups in scope (optionally of one station), newest first, keyset by id.

    :returns: ([(group, station name, leader name or None, member count)], next_after or None)
    :raises PermissionDenied, OrgUnitNotFound:
    """
    require_permission(actor, "groups.manage")
    members = (
        select(func.count())
        .select_from(SelfGroupMember)
        .where(SelfGroupMember.group_id == SelfGroup.id)
        .scalar_subquery()
    )
    query = (
        select(SelfGroup, OrgUnit.name, Veteran.name, members)
        .join(OrgUnit, OrgUnit.id == SelfGroup.station_id)
        .outerjoin(Veteran, Veteran.id == SelfGroup.leader_id)
        .where(OrgUnit.path.startswith(actor.scope_path, autoescape=True))
    )
    if station_id:
        query = query.where(SelfGroup.station_id == get_unit_in_scope(actor, station_id).id)
    if after:
        query = query.where(SelfGroup.id < after)
    rows = db.session.execute(query.order_by(SelfGroup.id.desc()).limit(limit + 1)).all()
    next_after = rows[limit - 1][0].id if len(rows) > limit else None
    return [tuple(r) for r in rows[:limit]], next_after


def get_group(*, actor, group_id, lock=False):
    """The group `group_id` if its station lies in the actor's scope. :raises PermissionDenied, GroupNotFound:"""
    require_permission(actor, "groups.manage")
    return get_scoped(
        SelfGroup, group_id, actor=actor, unit_column=SelfGroup.station_id, not_found=GroupNotFound, lock=lock
    )


def _text(values, errors, key, label, limit, required=False):
    value = str(values.get(key) or "").strip()
    if required and not value:
        errors[key] = f"请填写{label}"
    elif len(value) > limit:
        errors[key] = f"{label}不能超过{limit}个字"
    return value or None


def _veteran_at(station_id, veteran_id, errors, key, label):
    """The active veteran `veteran_id` of the station, else an error on `key` (a veteran elsewhere is not named)."""
    try:
        veteran_id = int(veteran_id)
    except (TypeError, ValueError):
        veteran_id = None
    veteran = db.session.get(Veteran, veteran_id) if veteran_id and 0 < veteran_id < 2**62 else None
    if veteran is None or veteran.station_id != station_id or veteran.status != "active":
        errors[key] = f"{label}须为本服务站在册的退役军人"
        return None
    return veteran


def _criteria(values, errors):
    return {key: _text(values, errors, key, label, 200) for key, label in CRITERIA.items()}


def _audit(actor, action, group, **details):
    audit_service.record(
        actor=actor,
        action=action,
        object_type="self_group",
        object_id=group.id,
        details={"station_id": group.station_id, **details},
    )


def _add_member(actor, group, veteran):
    exists = db.session.get(SelfGroupMember, (group.id, veteran.id))
    if exists is None:
        db.session.add(SelfGroupMember(group_id=group.id, veteran_id=veteran.id, added_by_id=actor.id))
    return exists is None


def create_group(*, actor, station_id, values):
    """Set up a group at a station in scope with its leader, who becomes a member.

    :param values: name, leader_id and the CRITERIA texts (the form's fields).
    :raises PermissionDenied, OrgUnitNotFound, ValidationFailed:
    """
    require_permission(actor, "groups.manage")
    with transaction():
        station = get_unit_in_scope(actor, station_id)
        errors = {}
        if station.level != "station":
            raise ValidationFailed(details={"station": "自我服务小组只能设在服务站"})
        name = _text(values, errors, "name", "小组名称", 50, required=True)
        leader = _veteran_at(station.id, values.get("leader_id"), errors, "leader_id", "带头人")
        criteria = _criteria(values, errors)
        if name and db.session.scalar(
            select(SelfGroup.id).where(SelfGroup.station_id == station.id, SelfGroup.name == name)
        ):
            errors["name"] = "本站已有同名小组"
        if errors:
            raise ValidationFailed(details=errors)
        group = SelfGroup(station_id=station.id, name=name, leader_id=leader.id, created_by_id=actor.id, **criteria)
        db.session.add(group)
        db.session.flush()
        _add_member(actor, group, leader)
        _audit(actor, "groups.create", group, leader_id=leader.id)
    return group


def set_leader(*, actor, group_id, values):
    """Choose (or confirm) the leader and record the criteria of the choice; the leader becomes a member.

    :raises PermissionDenied, GroupNotFound, ValidationFailed:
    """
    with transaction():
        group = get_group(actor=actor, group_id=group_id, lock=True)
        errors = {}
        leader = _veteran_at(group.station_id, values.get("leader_id"), errors, "leader_id", "带头人")
        criteria = _criteria(values, errors)
        if errors:
            raise ValidationFailed(details=errors)
        previous = group.leader_id
        group.leader_id = leader.id
        for key, value in criteria.items():
            setattr(group, key, value)
        _add_member(actor, group, leader)
        _audit(actor, "groups.leader_set", group, leader_id=leader.id, previous_leader_id=previous)
    return group


def add_member(*, actor, group_id, veteran_id):
    """Add a veteran of the group's station. :raises PermissionDenied, GroupNotFound, ValidationFailed:"""
    with transaction():
        group = get_group(actor=actor, group_id=group_id, lock=True)
        errors = {}
        veteran = _veteran_at(group.station_id, veteran_id, errors, "veteran_id", "成员")
        if errors:
            raise ValidationFailed(details=errors)
        if _add_member(actor, group, veteran):
            _audit(actor, "groups.member_add", group, veteran_id=veteran.id)
    return group


def remove_member(*, actor, group_id, veteran_id):
    """Take a member out (not the leader: choose another leader first).

    :raises PermissionDenied, GroupNotFound, ValidationFailed:
    """
    with transaction():
        group = get_group(actor=actor, group_id=group_id, lock=True)
        try:
            veteran_id = int(veteran_id)
        except (TypeError, ValueError):
            veteran_id = None
        member = db.session.get(SelfGroupMember, (group.id, veteran_id)) if veteran_id else None
        if member is None:
            raise ValidationFailed(details={"veteran_id": "该退役军人不是本组成员"})
        if veteran_id == group.leader_id:
            raise ValidationFailed(details={"veteran_id": "带头人不能移出小组，请先更换带头人"})
        db.session.delete(member)
        _audit(actor, "groups.member_remove", group, veteran_id=veteran_id)
    return group


def log_activity(*, actor, group_id, values):
    """Record an activity the group held: held_on (YYYY-MM-DD, not in the future), title, notes, participants.

    :raises PermissionDenied, GroupNotFound, ValidationFailed:
    """
    with transaction():
        group = get_group(actor=actor, group_id=group_id)
        errors = {}
        try:
            held_on = date.fromisoformat(str(values.get("held_on") or "").strip())
        except ValueError:
            held_on = None
        if held_on is None or not date(2000, 1, 1) <= held_on <= today_cst():
            errors["held_on"] = "请填写活动日期（不晚于今天）"
        title = _text(values, errors, "title", "活动名称", 100, required=True)
        notes = _text(values, errors, "notes", "活动情况", 1000)
        raw = str(values.get("participants") or "0").strip()
        participants = int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 5 else -1
        if not 0 <= participants <= 10000:
            errors["participants"] = "参加人数须为0至10000之间的整数"
        if errors:
            raise ValidationFailed(details=errors)
        activity = SelfGroupActivity(
            group_id=group.id,
            station_id=group.station_id,
            held_on=held_on,
            title=title,
            notes=notes,
            participants=participants,
            created_by_id=actor.id,
        )
        db.session.add(activity)
        db.session.flush()
        _audit(actor, "groups.activity_log", group, activity_id=activity.id)
    return activity


def list_members(group):
    """The group's members, leader first, then by name."""
    return db.session.scalars(
        select(Veteran)
        .join(SelfGroupMember, SelfGroupMember.veteran_id == Veteran.id)
        .where(SelfGroupMember.group_id == group.id)
        .order_by((Veteran.id == group.leader_id).desc(), Veteran.name, Veteran.id)
    ).all()


def list_activities(group, *, limit=PAGE):
    """The group's latest activities, newest first."""
    return db.session.scalars(
        select(SelfGroupActivity)
        .where(SelfGroupActivity.group_id == group.id)
        .order_by(SelfGroupActivity.held_on.desc(), SelfGroupActivity.id.desc())
        .limit(limit)
    ).all()


def member_choices(group):
    """Active veterans of the group's station not yet in it, by name (at most MAX_MEMBER_CHOICES)."""
    taken = select(SelfGroupMember.veteran_id).where(SelfGroupMember.group_id == group.id)
    return db.session.execute(
        select(Veteran.id, Veteran.name)
        .where(Veteran.station_id == group.station_id, Veteran.status == "active", Veteran.id.not_in(taken))
        .order_by(Veteran.name, Veteran.id)
        .limit(MAX_MEMBER_CHOICES)
    ).all()


def leader_choices(station_id):
    """Active veterans of a station, by name (at most MAX_MEMBER_CHOICES): the leader picker."""
    return db.session.execute(
        select(Veteran.id, Veteran.name)
        .where(Veteran.station_id == station_id, Veteran.status == "active")
        .order_by(Veteran.name, Veteran.id)
        .limit(MAX_MEMBER_CHOICES)
    ).all()


def groups_led_by(*, veteran_id, activities=10):
    """The phone's 我的小组: the active groups this veteran leads, with members (names and masked phones only) and
    the latest activities. A veteran who leads no group gets an empty list."""
    groups = db.session.scalars(
        select(SelfGroup).where(SelfGroup.leader_id == veteran_id, SelfGroup.active.is_(True)).order_by(SelfGroup.id)
    ).all()
    out = []
    for group in groups:
        station = db.session.get(OrgUnit, group.station_id)
        out.append(
            {
                "group": group,
                "station_name": station.name,
                "members": [
                    {
                        "name": v.name,
                        "phone": pii.mask_phone(v.phone) if v.phone_enc else None,
                        "leader": v.id == veteran_id,
                    }
                    for v in list_members(group)
                ],
                "activities": list_activities(group, limit=activities),
            }
        )
    return out
