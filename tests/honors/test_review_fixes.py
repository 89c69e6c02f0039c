"""Review fixes of issue 17 (honors): invitees stay under the organiser and in the reader's area, hostile ids and
dates are refused without a 500, the invite page's search is POSTed, the award form asks first."""

from datetime import datetime, timedelta

import pytest

from backend.errors import ValidationFailed
from backend.honors import ceremonies, invitations
from backend.honors.rules import InvitationNotFound
from backend.honors.welcome import _clean
from backend.registration.windows import CST
from tests.factories import create_staff, create_unit, create_veteran
from tests.helpers import PortalClient
from tests.honors.helpers import celebration, invitation_of, veterans
from tests.portal.test_confirmations import is_confirmed, post_forms


def _client(portal_app, staff):
    client = PortalClient(portal_app)
    client.login(staff)
    return client


def test_invite_stays_under_the_organising_unit(world):
    x2 = create_unit(parent=world.x, name="青山二镇服务站")
    ceremony = celebration(world, unit=world.x1)  # organised by station X1, by the county's staff
    ours, theirs = veterans(world, 2), veterans(world, 2, station=x2)
    assert invitations.invite(actor=world.staff_x, ceremony_id=ceremony.id, unit_id=world.x.id) == 2
    picked = [theirs[0].id, ours[0].id]
    assert invitations.invite(actor=world.staff_x, ceremony_id=ceremony.id, veteran_ids=picked) == 0
    assert all(invitation_of(ceremony.id, v.id) for v in ours)
    assert not any(invitation_of(ceremony.id, v.id) for v in theirs)


def test_invitees_and_replies_are_scoped_by_the_veterans_unit(world):
    x2 = create_unit(parent=world.x, name="青山二镇服务站")
    ceremony = celebration(world, unit=world.x1)
    stays, leaves = veterans(world, 2)
    invitations.invite(actor=world.staff_x, ceremony_id=ceremony.id, unit_id=world.x1.id)
    from backend.veterans.service import move_veteran

    move_veteran(actor=world.staff_x, veteran_id=leaves.id, station_id=x2.id)
    station_clerk = create_staff(unit=world.x1, roles=("station_staff",))
    rows, _ = ceremonies.invitees(ceremony, actor=station_clerk)
    assert [i.veteran_id for i, _ in rows] == [stays.id]
    gone = invitation_of(ceremony.id, leaves.id)
    with pytest.raises(InvitationNotFound):
        invitations.get_invitation(actor=station_clerk, invitation_id=gone.id, permission="honors.manage")
    with pytest.raises(InvitationNotFound):
        invitations.record_reply(actor=station_clerk, invitation_id=gone.id, attending=True)
    rows, _ = ceremonies.invitees(ceremony, actor=world.staff_x)  # the county sees both stations
    assert {i.veteran_id for i, _ in rows} == {stays.id, leaves.id}
    assert invitations.record_reply(actor=world.staff_x, invitation_id=gone.id, attending=False).status == "declined"


@pytest.mark.parametrize("hostile", ["²", "١٢", "9" * 5000, "-1", "0", " ", "1e3"])
def test_hostile_picked_ids_are_ignored(world, hostile):
    ceremony = celebration(world)
    veteran = create_veteran(station=world.x1)
    assert invitations.invite(actor=world.staff_x, ceremony_id=ceremony.id, veteran_ids=[hostile, str(veteran.id)]) == 1
    with pytest.raises(InvitationNotFound):
        invitations.get_invitation(actor=world.staff_x, invitation_id=hostile)


def test_hostile_picked_ids_through_the_portal(world, portal_app):
    ceremony = celebration(world)
    client = _client(portal_app, world.staff_x)
    for hostile in (["²", "١٢"], ["9" * 5000]):  # the portal's number guard may answer 422 first: never a 500
        response = client.post(f"/honors/ceremonies/{ceremony.id}/invite", data={"veteran": hostile})
        assert response.status_code in (302, 422)


@pytest.mark.parametrize(
    "held_at",
    [datetime(1, 1, 1, tzinfo=CST), datetime(1999, 12, 31, 9, tzinfo=CST), datetime(9999, 12, 31, tzinfo=CST)],
)
def test_welcome_time_is_bounded_before_any_comparison(held_at):
    with pytest.raises(ValidationFailed) as refused:
        _clean(held_at, "礼堂", "站长", None)
    assert refused.value.details["held_at"]


def test_welcome_time_not_long_before_the_arrival(world, portal_app):
    from tests.onboarding.helpers import new_case

    _, case = new_case(world, party_member=False)
    early = datetime.combine(case.arrived_on - timedelta(days=400), datetime.min.time(), tzinfo=CST)
    with pytest.raises(ValidationFailed) as refused:
        _clean(early, "礼堂", "站长", None, case.arrived_on)
    assert "一年" in refused.value.details["held_at"]
    client = _client(portal_app, world.staff_x)
    form = {"held_at": "0001-01-01T00:00", "place": "礼堂", "attendees": "站长"}
    response = client.post(f"/onboarding/{case.id}/welcome", data=form)
    assert response.status_code < 500


def test_the_invite_search_is_posted_and_stays_under_the_organiser(world, portal_app):
    x2 = create_unit(parent=world.x, name="青山二镇服务站")
    ceremony = celebration(world, unit=world.x1)
    ours = create_veteran(station=world.x1, name="王邀请")
    create_veteran(station=x2, name="王外站")
    client = _client(portal_app, world.staff_x)
    page = client.get(f"/honors/ceremonies/{ceremony.id}/invite", expect=200).text
    search = next(f for f in post_forms(page) if f["attrs"]["action"].endswith("/invite/search"))
    assert not is_confirmed(search)  # a search asks nothing
    assert 'method="get"' not in page
    found = client.post(f"/honors/ceremonies/{ceremony.id}/invite/search", data={"q": "王"}, expect=200).text
    assert f'value="{ours.id}"' in found and "王外站" not in found
    by_number = client.post(
        f"/honors/ceremonies/{ceremony.id}/invite/search", data={"q": ours.id_number}, expect=200
    ).text
    assert f'value="{ours.id}"' in by_number and ours.id_number not in by_number


def test_the_award_form_asks_and_names_the_veteran(world, portal_app):
    veteran = create_veteran(station=world.x1, name="李立功")
    client = _client(portal_app, world.staff_x)
    found = client.post("/honors/awards/new/search", data={"q": "李立功"}, expect=200).text
    assert f"/honors/awards/new?veteran={veteran.id}" in found
    page = client.get(f"/honors/awards/new?veteran={veteran.id}", expect=200).text
    form = next(f for f in post_forms(page) if f["attrs"].get("data-testid") == "award-form")
    assert is_confirmed(form) and "李立功" in form["attrs"]["data-confirm-body"]


def test_the_honors_cards_do_not_share_an_order_with_the_archives_card():
    from admin_portal.archives import cards as archive_cards
    from admin_portal.honors import cards as honors_cards

    honors = {honors_cards.chronicle_reviews.order, honors_cards.upcoming_ceremonies.order}
    assert archive_cards.archives_todo.order not in honors and len(honors) == 2
