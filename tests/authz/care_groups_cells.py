"""care slice (issue 16, C4): the authorization matrix's cells for 自我服务小组 (portal and phone) and 经费统计, and the
plain builders tests/groups and tests/funding use (rows written directly)."""

from backend.db import transaction
from backend.extensions import db
from backend.groups.models import SelfGroup, SelfGroupMember
from tests.authz.cells import VETERANS, Cell, _year
from tests.factories import create_veteran, unique

GROUP_MANAGERS_OF_X = ("staff_x",)  # groups.manage (station staff, center reviewer) with X1 in their subtree
FUNDING_VIEWERS_OF_X = ("staff_x", "supervisor_parent")  # funding.view: center reviewer, supervisor


def make_group(station, leader, *, name=None, members=()):
    """A group of `station` led by `leader` (a member too), with `members`."""
    with transaction():
        group = SelfGroup(station_id=station.id, name=name or unique("互助小组"), leader_id=leader.id, health="良好")
        db.session.add(group)
        db.session.flush()
        for veteran in (leader, *members):
            db.session.add(SelfGroupMember(group_id=group.id, veteran_id=veteran.id))
    return group


def _group(w):
    if "group" not in w.objects:
        w.objects["member"] = create_veteran(station=w.x1)
        w.objects["group"] = make_group(w.x1, w.veteran, members=[w.objects["member"]])
    return w.objects["group"]


CARE_GROUPS_CELLS = {
    ("portal", "groups.index", "GET"): Cell("GET", "/groups/", GROUP_MANAGERS_OF_X + ("staff_y",)),
    ("portal", "groups.new", "GET"): Cell("GET", lambda w: f"/groups/new?station={w.x1.id}", GROUP_MANAGERS_OF_X),
    ("portal", "groups.new", "POST"): Cell(
        "POST",
        "/groups/new",
        GROUP_MANAGERS_OF_X,
        data=lambda w: {"station": w.x1.id, "name": unique("小组"), "leader_id": w.veteran.id, "health": "良好"},
    ),
    ("portal", "groups.detail", "GET"): Cell("GET", lambda w: f"/groups/{_group(w).id}", GROUP_MANAGERS_OF_X),
    ("portal", "groups.set_leader", "POST"): Cell(
        "POST",
        lambda w: f"/groups/{_group(w).id}/leader",
        GROUP_MANAGERS_OF_X,
        data=lambda w: {"leader_id": w.veteran.id, "ability": "较强"},
    ),
    ("portal", "groups.add_member", "POST"): Cell(
        "POST",
        lambda w: f"/groups/{_group(w).id}/members",
        GROUP_MANAGERS_OF_X,
        data=lambda w: {"member-veteran_id": w.veteran.id},
        notes="already a member: no change, still allowed",
    ),
    ("portal", "groups.remove_member", "POST"): Cell(
        "POST",
        lambda w: f"/groups/{_group(w).id}/members/{w.member.id}/remove",
        GROUP_MANAGERS_OF_X,
    ),
    ("portal", "groups.log_activity", "POST"): Cell(
        "POST",
        lambda w: f"/groups/{_group(w).id}/activities",
        GROUP_MANAGERS_OF_X,
        data={"held_on": "2024-05-01", "title": "义务植树", "participants": "8"},
    ),
    ("portal", "funding.index", "GET"): Cell(
        "GET", lambda w: f"/funding/?unit={w.x.id}&year={_year()}", FUNDING_VIEWERS_OF_X
    ),
    ("portal", "funding.export", "POST"): Cell(
        "POST", "/funding/export", FUNDING_VIEWERS_OF_X, data=lambda w: {"unit": w.x.id, "year": _year()}
    ),
    ("api", "groups.my_groups", "GET"): Cell("GET", "/v1/groups/mine", VETERANS, notes="empty for a non-leader"),
}
