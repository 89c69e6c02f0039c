"""The phone's feedback endpoints: pending (own, unrated, recent), rating once per event, complaints with targets and
attachments (the upload checks), own list with plain-word states, and the OpenAPI document."""

import io

import pytest

from backend.feedback import ratings
from tests.factories import create_veteran
from tests.feedback.helpers import contact, station_worker
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


def test_pending_lists_own_unrated_recent_events(phone):
    world, veteran, api = phone
    worker = station_worker(world)
    mine = contact(veteran, worker)
    rated = contact(veteran, worker, days_ago=2)
    contact(veteran, worker, days_ago=120)  # too old
    other = create_veteran(station=world.x1)
    contact(other, worker)
    ratings.rate(account=veteran.account, subject="contact", subject_id=rated.id, score=5)
    body = api.get("/v1/feedback/pending", expect=200).json
    assert [(i["subject"], i["subject_id"]) for i in body["items"]] == [("contact", mine.id)]
    assert body["items"][0]["title"] == "常态化联系" and body["scores"]["1"] == "非常不满意"


def test_rating_once_per_event(phone):
    world, veteran, api = phone
    record = contact(veteran, world.staff_x)
    body = api.post(
        "/v1/feedback",
        json={"subject": "contact", "subject_id": record.id, "score": 2, "comment": "没解决"},
        expect=201,
    ).json
    assert body["score_label"] == "不满意" and body["followed_up"] is True
    again = api.post("/v1/feedback", json={"subject": "contact", "subject_id": record.id, "score": 5}, expect=409).json
    assert again["error"]["code"] == "feedback.already_rated"
    assert api.get("/v1/feedback/pending", expect=200).json["items"] == []


def test_another_veterans_event_cannot_be_rated(phone):
    world, veteran, api = phone
    other = create_veteran(station=world.x1)
    record = contact(other, world.staff_x)
    body = api.post("/v1/feedback", json={"subject": "contact", "subject_id": record.id, "score": 5}, expect=404).json
    assert body["error"]["code"] == "feedback.event_not_found"


def test_rating_validation_is_422(phone):
    _, _, api = phone
    api.post("/v1/feedback", json={"subject": "lottery", "subject_id": 1, "score": 9}, expect=422)
    api.post(
        "/v1/feedback", json={"subject": "contact", "subject_id": 1, "score": 3, "comment": "长" * 301}, expect=422
    )


def test_rating_with_an_idempotency_key_is_replayed(phone):
    world, veteran, api = phone
    record = contact(veteran, world.staff_x)
    payload = {"subject": "contact", "subject_id": record.id, "score": 4}
    headers = {"Authorization": f"Bearer {api.token}", "Idempotency-Key": "rate-once-1"}
    first = api.client.post("/v1/feedback", json=payload, headers=headers)
    second = api.client.post("/v1/feedback", json=payload, headers=headers)
    assert first.status_code == second.status_code == 201
    assert second.headers.get("Idempotent-Replayed") == "true" and first.json["id"] == second.json["id"]


def _upload(api, complaint_id, data, name="照片.png"):
    return api.client.post(
        f"/v1/complaints/{complaint_id}/attachments",
        data={"file": (io.BytesIO(data), name)},
        headers={"Authorization": f"Bearer {api.token}"},
        content_type="multipart/form-data",
    )


def test_complaint_about_a_staff_member_with_an_attachment(phone):
    world, veteran, api = phone
    worker = station_worker(world)
    contact(veteran, worker)
    targets = api.get("/v1/complaints/targets", expect=200).json
    assert targets["units"][0] == {"id": world.x1.id, "name": world.x1.name}
    assert targets["staff"] == [{"id": worker.id, "name": worker.full_name}]
    body = api.post(
        "/v1/complaints",
        json={"kind": "complaint", "about": "staff", "staff_id": worker.id, "text": "推诿"},
        expect=201,
    ).json
    assert body["state"] == "open" and body["state_label"] == "已受理，正在办理" and body["about"] == "staff"
    response = _upload(api, body["id"], samples.png())
    assert response.status_code == 201, response.json
    bad = _upload(api, body["id"], b"MZ\x90\x00 not an image", "a.exe")
    assert bad.status_code == 422 and bad.json["error"]["code"] == "feedback.attachment_rejected"
    listed = api.get("/v1/complaints", expect=200).json
    assert [i["id"] for i in listed["items"]] == [body["id"]] and len(listed["items"][0]["attachments"]) == 1


def test_complaint_about_a_stranger_is_422(phone):
    world, _, api = phone
    stranger = station_worker(world)
    body = api.post(
        "/v1/complaints", json={"kind": "complaint", "about": "staff", "staff_id": stranger.id, "text": "x"}, expect=422
    ).json
    assert body["error"]["code"] == "feedback.target_invalid"


def test_suggestion_defaults_to_the_own_station_and_another_veterans_complaint_is_404(phone):
    world, veteran, api = phone
    body = api.post("/v1/complaints", json={"kind": "suggestion", "text": "建议增加夜间服务"}, expect=201).json
    assert body["kind_label"] == "建议"
    other = create_veteran(station=world.x1)
    from backend.feedback import complaints

    theirs, _ = complaints.submit(account=account_for(other), kind="suggestion", text="x")
    assert _upload(api, theirs.id, samples.png()).status_code == 404


def test_openapi_documents_the_operations(api_app):
    spec = api_app.test_client().get("/openapi.json").json
    paths = spec["paths"]
    for path, method in (
        ("/v1/feedback/pending", "get"),
        ("/v1/feedback", "post"),
        ("/v1/complaints", "get"),
        ("/v1/complaints", "post"),
        ("/v1/complaints/targets", "get"),
        ("/v1/complaints/{complaint_id}/attachments", "post"),
    ):
        assert method in paths[path], path
