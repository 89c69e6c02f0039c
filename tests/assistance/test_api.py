"""The phone's assistance endpoints: list own (keyset), request (201), follow one (own only, 404 otherwise) with its
timeline, and proof uploads with the registration attachments' checks."""

import io

import pytest
from sqlalchemy import select

from backend.assistance.models import AssistanceAttachment
from backend.audit.models import AuditLog
from backend.extensions import db
from tests.assistance.helpers import move_to, new_case
from tests.factories import create_veteran
from tests.files import samples
from tests.helpers import ApiClient
from tests.registration.helpers import account_for


@pytest.fixture
def phone(world, api_app, monkeypatch):
    monkeypatch.setitem(api_app.extensions, "upload_scanner", samples.EicarScanner())
    from miniprogram_api.security import issue_tokens

    veteran = create_veteran(station=world.x1)
    veteran.account = account_for(veteran)
    with api_app.test_request_context():
        token = issue_tokens(veteran.account)["access_token"]
    return world, veteran, ApiClient(api_app, token)


def _upload(api, case_id, data, name="诊断证明.png"):
    return api.client.post(
        f"/v1/assistance/{case_id}/attachments",
        data={"file": (io.BytesIO(data), name)},
        headers={"Authorization": f"Bearer {api.token}"},
        content_type="multipart/form-data",
    )


def test_request_help_answers_201_with_the_timeline(phone):
    world, veteran, api = phone
    body = api.post(
        "/v1/assistance",
        json={"category": "accident", "description": "车祸骨折", "requested_amount_fen": 300000},
        expect=201,
    ).json
    assert body["status"] == "submitted" and body["category_label"] == "意外事故"
    assert body["description"] == "车祸骨折" and body["requested_amount_fen"] == 300000
    assert [e["status"] for e in body["timeline"]] == ["submitted"] and body["timeline"][0]["occurred_at"].endswith(
        "+08:00"
    )


def test_request_validation_is_422(phone):
    _, _, api = phone
    body = api.post("/v1/assistance", json={"category": "lottery", "description": ""}, expect=422).json
    assert body["error"]["code"] == "request.invalid"


def test_list_is_own_only_newest_first_with_keyset(phone):
    world, veteran, api = phone
    other = create_veteran(station=world.x1)
    new_case(world, account_for(other))
    ids = [new_case(world, veteran.account).id for _ in range(3)]
    first = api.get("/v1/assistance?limit=2", expect=200).json
    assert [i["id"] for i in first["items"]] == ids[::-1][:2] and first["next_cursor"] == ids[1]
    rest = api.get(f"/v1/assistance?limit=2&cursor={first['next_cursor']}", expect=200).json
    assert [i["id"] for i in rest["items"]] == [ids[0]] and rest["next_cursor"] is None


def test_another_veterans_case_is_404_and_audited(phone):
    world, veteran, api = phone
    foreign = new_case(world)
    body = api.get(f"/v1/assistance/{foreign.id}", expect=404).json
    assert body["error"]["code"] == "assistance.not_found"
    api.get("/v1/assistance/999999999", expect=404)
    denied = db.session.scalars(select(AuditLog).where(AuditLog.action == "access.denied")).all()
    assert [d.object_id for d in denied] == [str(foreign.id)]


def test_follow_a_case_through_approval(phone):
    world, veteran, api = phone
    case = move_to(world, new_case(world, veteran.account), "approved")
    body = api.get(f"/v1/assistance/{case.id}", expect=200).json
    assert body["status"] == "approved" and body["approved_amount_fen"] == 100_000
    assert [e["status"] for e in body["timeline"]] == ["submitted", "under_review", "recommended", "approved"]


def test_proof_upload_is_checked_and_stored(phone, api_app):
    world, veteran, api = phone
    case = new_case(world, veteran.account)
    answer = _upload(api, case.id, samples.png())
    assert answer.status_code == 201, answer.get_json()
    assert answer.get_json()["display_name"] == "诊断证明.png"
    assert _upload(api, case.id, b"<?php system(1); ?>", "a.jpg").status_code == 422
    assert len(db.session.scalars(select(AssistanceAttachment)).all()) == 1


def test_proof_upload_to_another_veterans_case_is_404_and_after_recommendation_409(phone):
    world, veteran, api = phone
    assert _upload(api, new_case(world).id, samples.png()).status_code == 404
    case = move_to(world, new_case(world, veteran.account), "recommended")
    answer = _upload(api, case.id, samples.png())
    assert answer.status_code == 409 and answer.get_json()["error"]["code"] == "assistance.invalid_state"


@pytest.mark.parametrize("amount", [24_347_131_018, 2**31, 10**9 + 1])
def test_an_amount_beyond_the_integer_column_is_422_not_500(phone, amount):
    """Schemathesis found 24,347,131,018 fen under the old 10**11 cap: an INTEGER overflow on PostgreSQL (a 500)."""
    _, _, api = phone
    body = api.post(
        "/v1/assistance", json={"category": "other", "description": "看病", "requested_amount_fen": amount}, expect=422
    ).json
    assert body["error"]["code"] == "request.invalid"
