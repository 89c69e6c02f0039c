"""自我服务小组 (Art. 19): the service's rules and scope, the portal pages, the phone's GET /groups/mine."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from backend.audit.models import AuditLog
from backend.errors import PermissionDenied, ValidationFailed
from backend.extensions import db
from backend.groups import service
from backend.groups.models import SelfGroupMember
from backend.groups.service import GroupNotFound
from backend.orgs.scope import OrgUnitNotFound
from backend.registration.windows import today_cst
from tests.authz.care_groups_cells import make_group
from tests.bookings.test_booking_support import veteran_token
from tests.factories import create_veteran
from tests.helpers import ApiClient, portal_as


@pytest.fixture
def leader(world):
    return create_veteran(station=world.x1, name="张带头")


def _create(world, leader, **values):
    fields = {"name": "青山互助组", "leader_id": leader.id, "political_standing": "党员，表现好", "ability": "强"}
    return service.create_group(actor=world.staff_x, station_id=world.x1.id, values={**fields, **values})


def _actions(group):
    return db.session.scalars(
        select(AuditLog.action).where(AuditLog.object_type == "self_group", AuditLog.object_id == str(group.id))
    ).all()


def test_create_group_records_leader_criteria_membership_and_audit(world, leader):
    group = _create(world, leader)
    assert group.leader_id == leader.id and group.political_standing == "党员，表现好" and group.ability == "强"
    assert [v.id for v in service.list_members(group)] == [leader.id]
    assert _actions(group) == ["groups.create"]


def test_leader_must_be_an_active_veteran_of_the_station(world):
    other = create_veteran(station=world.y1)
    with pytest.raises(ValidationFailed) as refused:
        _create(world, other)
    assert "leader_id" in refused.value.details


def test_name_is_unique_per_station_and_required(world, leader):
    _create(world, leader)
    with pytest.raises(ValidationFailed) as refused:
        _create(world, leader)
    assert refused.value.details == {"name": "本站已有同名小组"}
    with pytest.raises(ValidationFailed):
        _create(world, leader, name="  ")


def test_a_group_is_set_at_a_station_in_scope_only(world, leader):
    with pytest.raises(OrgUnitNotFound):
        service.create_group(actor=world.staff_y, station_id=world.x1.id, values={"name": "x", "leader_id": leader.id})
    with pytest.raises(ValidationFailed):
        service.create_group(actor=world.staff_x, station_id=world.x.id, values={"name": "x", "leader_id": leader.id})
    with pytest.raises(PermissionDenied):
        service.list_groups(actor=world.supervisor_parent)


def test_another_stations_group_is_not_found_and_not_listed(world, leader):
    group = make_group(world.x1, leader)
    assert [r[0].id for r in service.list_groups(actor=world.staff_x)[0]] == [group.id]
    assert service.list_groups(actor=world.staff_y)[0] == []
    with pytest.raises(GroupNotFound):
        service.get_group(actor=world.staff_y, group_id=group.id)
    with pytest.raises(GroupNotFound):
        service.log_activity(actor=world.staff_y, group_id=group.id, values={"title": "x"})


def test_members_are_added_once_and_the_leader_cannot_be_removed(world, leader):
    group = make_group(world.x1, leader)
    member = create_veteran(station=world.x1)
    service.add_member(actor=world.staff_x, group_id=group.id, veteran_id=member.id)
    service.add_member(actor=world.staff_x, group_id=group.id, veteran_id=member.id)
    assert {v.id for v in service.list_members(group)} == {leader.id, member.id}
    with pytest.raises(ValidationFailed):
        service.add_member(actor=world.staff_x, group_id=group.id, veteran_id=create_veteran(station=world.y1).id)
    with pytest.raises(ValidationFailed):
        service.remove_member(actor=world.staff_x, group_id=group.id, veteran_id=leader.id)
    service.remove_member(actor=world.staff_x, group_id=group.id, veteran_id=member.id)
    assert db.session.get(SelfGroupMember, (group.id, member.id)) is None
    assert _actions(group) == ["groups.member_add", "groups.member_remove"]


def test_set_leader_changes_leader_and_criteria(world, leader):
    group = make_group(world.x1, leader)
    new = create_veteran(station=world.x1)
    service.set_leader(actor=world.staff_x, group_id=group.id, values={"leader_id": new.id, "health": "健康"})
    assert group.leader_id == new.id and group.health == "健康" and group.ability is None
    assert new.id in {v.id for v in service.list_members(group)}


def test_activities_are_logged_with_checked_fields_newest_first(world, leader):
    group = make_group(world.x1, leader)
    today = today_cst()
    service.log_activity(
        actor=world.staff_x,
        group_id=group.id,
        values={"held_on": (today - timedelta(days=3)).isoformat(), "title": "走访孤老", "participants": "6"},
    )
    service.log_activity(actor=world.staff_x, group_id=group.id, values={"held_on": today.isoformat(), "title": "学习"})
    assert [a.title for a in service.list_activities(group)] == ["学习", "走访孤老"]
    bad = {"held_on": (today + timedelta(days=1)).isoformat(), "title": "", "participants": "-1"}
    with pytest.raises(ValidationFailed) as refused:
        service.log_activity(actor=world.staff_x, group_id=group.id, values=bad)
    assert set(refused.value.details) == {"held_on", "title", "participants"}
    assert _actions(group).count("groups.activity_log") == 2


def test_portal_create_and_detail_pages(portal_app, world, leader):
    client = portal_as(portal_app, world.staff_x)
    page = client.get(f"/groups/new?station={world.x1.id}", expect=200).get_data(as_text=True)
    assert "张带头" in page and "政治素质" in page
    data = {"station": world.x1.id, "name": "门户小组", "leader_id": leader.id, "experience": "十年"}
    response = client.post("/groups/new", data=data, expect=302)
    detail = client.get(response.headers["Location"], expect=200).get_data(as_text=True)
    assert "门户小组" in detail and "带头人" in detail and "十年" in detail
    assert "门户小组" in client.get("/groups/", expect=200).get_data(as_text=True)
    refused = client.post("/groups/new", data={**data, "leader_id": "x"}, expect=422).get_data(as_text=True)
    assert "带头人须为本服务站在册的退役军人" in refused


def test_portal_logs_an_activity_and_shows_errors_in_place(portal_app, world, leader):
    group = make_group(world.x1, leader)
    client = portal_as(portal_app, world.staff_x)
    values = {"held_on": today_cst().isoformat(), "title": "读书会", "participants": "9"}
    client.post(f"/groups/{group.id}/activities", data=values, expect=302)
    assert "读书会" in client.get(f"/groups/{group.id}", expect=200).get_data(as_text=True)
    page = client.post(f"/groups/{group.id}/activities", data={"title": ""}, expect=422).get_data(as_text=True)
    assert 'data-error-for="title"' in page and 'data-error-for="held_on"' in page
    portal_as(portal_app, world.staff_y).get(f"/groups/{group.id}", expect=404)


def test_phone_leader_sees_members_with_masked_phones_and_activities(world, api_app, leader):
    member = create_veteran(station=world.x1, name="李成员", phone="13912345678")
    group = make_group(world.x1, leader, members=[member])
    service.log_activity(
        actor=world.staff_x, group_id=group.id, values={"held_on": today_cst().isoformat(), "title": "座谈"}
    )
    body = ApiClient(api_app, veteran_token(api_app, leader)).get("/v1/groups/mine", expect=200).json
    [item] = body["items"]
    assert item["name"] == group.name and item["station_name"] == world.x1.name
    assert item["members"][0]["leader"] is True and item["members"][0]["name"] == "张带头"
    assert {"name": "李成员", "phone": "139****5678", "leader": False} in item["members"]
    assert set(item["members"][0]) == {"name", "phone", "leader"}  # names and masked phones only
    assert item["activities"][0]["title"] == "座谈" and item["activities"][0]["date"] == today_cst().isoformat()


def test_phone_non_leader_gets_an_empty_list(world, api_app, leader):
    member = create_veteran(station=world.x1)
    make_group(world.x1, leader, members=[member])
    assert ApiClient(api_app, veteran_token(api_app, member)).get("/v1/groups/mine", expect=200).json == {"items": []}
