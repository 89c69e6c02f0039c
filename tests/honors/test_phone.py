"""The phone: the veteran's invitations (newest first, keyset), one invitation (own only: 404 envelope otherwise),
and the reply until the reply date (CST end of day) or the ceremony's time, changeable before, idempotent."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from backend.audit.models import AuditLog
from backend.extensions import db
from backend.honors import invitations
from backend.registration.windows import today_cst
from tests.factories import create_veteran
from tests.honors.helpers import celebration, invitation_of, move_in_time, phone_for


@pytest.fixture
def invited(world, api_app):
    veteran, other = create_veteran(station=world.x1), create_veteran(station=world.x1)
    ceremony = celebration(world, rsvp_days=10)
    invitations.invite(actor=world.staff_x, ceremony_id=ceremony.id, veteran_ids=[veteran.id, other.id])
    return ceremony, veteran, other, invitation_of(ceremony.id, veteran.id), phone_for(api_app, veteran)


def test_list_newest_first_with_a_cursor(world, invited):
    ceremony, veteran, _, first, phone = invited
    second = celebration(world, title="国庆座谈会")
    invitations.invite(actor=world.staff_x, ceremony_id=second.id, veteran_ids=[veteran.id])
    body = phone.get("/v1/invitations?limit=1", expect=200).json
    assert [i["title"] for i in body["items"]] == ["国庆座谈会"] and body["next_cursor"]
    rest = phone.get(f"/v1/invitations?limit=1&cursor={body['next_cursor']}", expect=200).json
    assert [i["id"] for i in rest["items"]] == [first.id] and rest["next_cursor"] is None
    item = rest["items"][0]
    assert item["status"] == "invited" and item["reply_open"] is True and item["held_at"].endswith("+08:00")
    assert item["rsvp_by"] == (today_cst() + timedelta(days=10)).isoformat()


def test_someone_elses_invitation_is_a_404_envelope(invited, api_app):
    ceremony, _, other, _, _ = invited
    stranger = phone_for(api_app, create_veteran(station=ceremony_station(ceremony)))
    theirs = invitation_of(ceremony.id, other.id)
    for response in (
        stranger.get(f"/v1/invitations/{theirs.id}"),
        stranger.post(f"/v1/invitations/{theirs.id}/rsvp", json={"attending": True}),
        stranger.get("/v1/invitations/999999999"),
    ):
        assert response.status_code == 404 and response.json["error"]["code"] == "honors.not_found"
    assert invitation_of(ceremony.id, other.id).status == "invited"


def ceremony_station(ceremony):
    from backend.orgs.models import OrgUnit

    return db.session.scalars(select(OrgUnit).where(OrgUnit.parent_id == ceremony.unit_id)).first()


def test_reply_change_and_idempotent_repeat(invited):
    ceremony, _, _, invitation, phone = invited
    body = phone.post(f"/v1/invitations/{invitation.id}/rsvp", json={"attending": True, "guests": 2}, expect=200).json
    assert (body["status"], body["guests"], body["recorded_by_staff"]) == ("accepted", 2, False)
    key = {"Idempotency-Key": "rsvp-1"}
    again = phone.post(f"/v1/invitations/{invitation.id}/rsvp", json={"attending": False}, headers=key, expect=200)
    replay = phone.post(f"/v1/invitations/{invitation.id}/rsvp", json={"attending": False}, headers=key, expect=200)
    assert replay.headers.get("Idempotent-Replayed") == "true" and replay.json == again.json
    assert again.json["status"] == "declined" and again.json["guests"] == 0
    # the same answer twice without a key is fine too: no second audit row
    phone.post(f"/v1/invitations/{invitation.id}/rsvp", json={"attending": False}, expect=200)
    rows = db.session.scalar(
        select(func.count())
        .select_from(AuditLog)
        .where(AuditLog.action == "honors.rsvp", AuditLog.object_id == str(invitation.id))
    )
    assert rows == 2
    assert invitation_of(ceremony.id, invitation.veteran_id).status == "declined"


def test_bad_replies_are_422(invited):
    _, _, _, invitation, phone = invited
    for payload in ({"attending": True, "guests": 4}, {"attending": "yes"}, {"guests": 1}):
        response = phone.post(f"/v1/invitations/{invitation.id}/rsvp", json=payload)
        assert response.status_code == 422 and response.json["error"]["code"] == "request.invalid"


def test_after_the_reply_date_the_answer_is_refused_with_a_clear_code(invited):
    ceremony, _, _, invitation, phone = invited
    move_in_time(ceremony, rsvp_by=today_cst() - timedelta(days=1))
    response = phone.post(f"/v1/invitations/{invitation.id}/rsvp", json={"attending": True})
    assert response.status_code == 409 and response.json["error"]["code"] == "honors.rsvp_closed"
    assert response.json["error"]["details"]["closed_at"].endswith("+08:00")
    assert phone.get(f"/v1/invitations/{invitation.id}", expect=200).json["reply_open"] is False


def test_the_reply_date_counts_to_the_end_of_the_day_cst_but_not_past_the_ceremony(invited):
    ceremony, _, _, invitation, phone = invited
    move_in_time(ceremony, rsvp_by=today_cst())  # today, CST: still open until midnight
    phone.post(f"/v1/invitations/{invitation.id}/rsvp", json={"attending": True}, expect=200)
    move_in_time(ceremony, held_in=-timedelta(minutes=1), rsvp_by=None)  # started: closed whatever the date
    response = phone.post(f"/v1/invitations/{invitation.id}/rsvp", json={"attending": False})
    assert response.status_code == 409 and response.json["error"]["code"] == "honors.rsvp_closed"


def test_the_phone_api_is_documented(api_app):
    spec = api_app.test_client().get("/openapi.json")
    if spec.status_code == 404:
        spec = api_app.test_client().get("/api/openapi.json")
    paths = spec.json["paths"]
    found = [p for p in paths if p.endswith("/invitations/{invitation_id}/rsvp")]
    assert found and "409" in paths[found[0]]["post"]["responses"]
    assert any(p.endswith("/invitations") for p in paths)
