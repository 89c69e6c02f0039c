"""Idempotency-Key on phone writes: replay, mismatch, in progress, failures released, expiry and purge, the docs."""

import io
from datetime import UTC, datetime, timedelta

import pytest
from freezegun import freeze_time
from sqlalchemy import func, select

from backend.extensions import db
from backend.idempotency import service as idempotency_service
from backend.idempotency import tasks as idempotency_tasks
from backend.idempotency.models import IdempotencyKey
from backend.travel import service as travel_service
from backend.travel.models import Trip
from miniprogram_api.idempotency import request_hash
from tests.api.helpers import bound_client, login
from tests.factories import create_veteran

TODAY = "2027-05-10 02:00:00"  # 10:00 CST
TRIP = {
    "destination": "JP",
    "purpose": "tourism",
    "document_type": "passport",
    "planned_departure": "2027-05-20",
    "planned_return": "2027-05-28",
}


def key_header(key):
    return {"Idempotency-Key": key}


def trips_of(veteran):
    return db.session.scalar(select(func.count()).select_from(Trip).where(Trip.veteran_id == veteran.id))


@pytest.fixture
def traveller(api_app, fake_wechat, world):
    with freeze_time(TODAY):
        veteran = create_veteran(station=world.x1)
        client = bound_client(api_app, fake_wechat, veteran)
        client.post("/v1/travels/consent", json={"notice_version": travel_service.NOTICE_VERSION}, expect=200)
    return veteran, client


@freeze_time(TODAY)
def test_repeated_post_travels_with_one_key_replays_the_first_answer_and_makes_one_trip(traveller):
    veteran, client = traveller
    first = client.post("/v1/travels", json=TRIP, headers=key_header("trip-1"), expect=201)
    again = client.post("/v1/travels", json=TRIP, headers=key_header("trip-1"), expect=201)
    assert again.get_json() == first.get_json()
    assert again.content_type == first.content_type == "application/json"
    assert again.headers["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first.headers
    assert trips_of(veteran) == 1
    client.post("/v1/travels", json=TRIP, headers=key_header("trip-2"), expect=201)  # a new key is a new trip
    assert trips_of(veteran) == 2


@freeze_time(TODAY)
def test_without_a_key_each_post_is_a_new_trip(traveller):
    veteran, client = traveller
    client.post("/v1/travels", json=TRIP, expect=201)
    client.post("/v1/travels", json=TRIP, expect=201)
    assert trips_of(veteran) == 2
    assert db.session.scalar(select(func.count()).select_from(IdempotencyKey)) == 0


def _credits(client, template_id="TPL_CARE"):
    items = client.get("/v1/subscriptions", expect=200).get_json()["items"]
    return next(i for i in items if i["template_id"] == template_id)["credits"]


def test_repeated_post_subscriptions_with_one_key_grants_one_credit(api_app, fake_wechat):
    client = login(api_app, fake_wechat, "o-idem-subscribe")  # an account not yet bound: requires_account
    body = {"results": {"TPL_CARE": "accept"}}
    for _ in range(3):
        client.post("/v1/subscriptions", json=body, headers=key_header("tap-1"), expect=200)
    assert _credits(client) == 1
    client.post("/v1/subscriptions", json=body, headers=key_header("tap-2"), expect=200)
    assert _credits(client) == 2


@freeze_time(TODAY)
def test_same_key_with_another_body_or_path_is_refused_as_mismatch(traveller):
    veteran, client = traveller
    trip = client.post("/v1/travels", json=TRIP, headers=key_header("k"), expect=201).get_json()
    other = {**TRIP, "destination": "KR"}
    for method, url, body in (
        ("POST", "/v1/travels", other),
        ("POST", f"/v1/travels/{trip['id']}/cancel", None),
        ("PATCH", "/v1/me", {"address": "青山镇2号"}),
    ):
        answer = client.call(method, url, json=body, headers=key_header("k"), expect=422).get_json()
        assert answer["error"]["code"] == "request.idempotency_mismatch"
        assert "幂等键" in answer["error"]["message"]
    assert trips_of(veteran) == 1
    assert client.get("/v1/travels", expect=200).get_json()["items"][0]["status"] == "planned"


@freeze_time(TODAY)
def test_keys_belong_to_one_account(traveller, api_app, fake_wechat, world):
    veteran, client = traveller
    client.post("/v1/travels", json=TRIP, headers=key_header("shared"), expect=201)
    other_vet = create_veteran(station=world.x1)
    other = bound_client(api_app, fake_wechat, other_vet)
    other.post("/v1/travels/consent", json={"notice_version": travel_service.NOTICE_VERSION}, expect=200)
    answer = other.post("/v1/travels", json=TRIP, headers=key_header("shared"), expect=201)
    assert "Idempotent-Replayed" not in answer.headers
    assert trips_of(veteran) == 1 and trips_of(other_vet) == 1


@freeze_time(TODAY)
@pytest.mark.parametrize("key", ["", " ", "a" * 65, "键", "with space", "tab\there"])
def test_invalid_key_is_refused_naming_the_header(traveller, key):
    veteran, client = traveller
    answer = client.post("/v1/travels", json=TRIP, headers=key_header(key), expect=422).get_json()
    assert answer["error"]["code"] == "request.invalid"
    assert "Idempotency-Key" in answer["error"]["details"]
    assert trips_of(veteran) == 0


@freeze_time(TODAY)
def test_longest_key_is_accepted(traveller):
    _, client = traveller
    client.post("/v1/travels", json=TRIP, headers=key_header("~" * 64), expect=201)


@freeze_time(TODAY)
def test_a_failed_first_request_releases_the_key_so_a_retry_runs(traveller, monkeypatch):
    veteran, client = traveller
    real = travel_service.report_trip

    def broken(**kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(travel_service, "report_trip", broken)
    answer = client.post("/v1/travels", json=TRIP, headers=key_header("retry"), expect=500).get_json()
    assert answer["error"]["code"] == "server.internal_error"
    assert db.session.scalar(select(func.count()).select_from(IdempotencyKey)) == 0
    monkeypatch.setattr(travel_service, "report_trip", real)
    client.post("/v1/travels", json=TRIP, headers=key_header("retry"), expect=201)
    assert trips_of(veteran) == 1


@freeze_time(TODAY)
def test_a_refusal_is_stored_and_replayed_too(api_app, fake_wechat, world):
    """Decision: a 4xx is the first answer like any other; a new attempt (after consenting) takes a new key."""
    veteran = create_veteran(station=world.x1)
    client = bound_client(api_app, fake_wechat, veteran)
    first = client.post("/v1/travels", json=TRIP, headers=key_header("no-consent"), expect=409).get_json()
    assert first["error"]["code"] == "travel.consent_required"
    client.post("/v1/travels/consent", json={"notice_version": travel_service.NOTICE_VERSION}, expect=200)
    again = client.post("/v1/travels", json=TRIP, headers=key_header("no-consent"), expect=409)
    assert again.get_json() == first and again.headers["Idempotent-Replayed"] == "true"
    client.post("/v1/travels", json=TRIP, headers=key_header("after-consent"), expect=201)
    assert trips_of(veteran) == 1


@freeze_time(TODAY)
def test_a_request_while_the_first_runs_answers_in_progress(traveller, api_app):
    veteran, client = traveller
    with api_app.test_request_context("/v1/travels", method="POST", json=TRIP):
        digest = request_hash(veteran.id)
    idempotency_service.claim_key(account_id=_account_id(veteran), key="busy", request_hash=digest)
    answer = client.post("/v1/travels", json=TRIP, headers=key_header("busy"), expect=409)
    assert answer.get_json()["error"]["code"] == "request.idempotency_in_progress"
    assert answer.headers["Retry-After"] == "1"
    assert trips_of(veteran) == 0
    with freeze_time(datetime(2027, 5, 10, 2, 6, tzinfo=UTC)):  # abandoned after 5 minutes: a retry takes it over
        client.post("/v1/travels", json=TRIP, headers=key_header("busy"), expect=201)
    assert trips_of(veteran) == 1


def _account_id(veteran):
    from backend.accounts.models import WechatAccount

    return db.session.scalar(select(WechatAccount.id).where(WechatAccount.veteran_id == veteran.id))


def test_keys_expire_after_24_hours_and_are_purged(api_app, fake_wechat, world):
    with freeze_time(TODAY):
        veteran = create_veteran(station=world.x1)
        client = bound_client(api_app, fake_wechat, veteran)
        client.post("/v1/travels/consent", json={"notice_version": travel_service.NOTICE_VERSION}, expect=200)
        client.post("/v1/travels", json=TRIP, headers=key_header("day-1"), expect=201)
        client.post("/v1/travels", json={**TRIP, "destination": "KR"}, headers=key_header("day-1b"), expect=201)
    with freeze_time("2027-05-11 01:59:59"):  # 23:59:59 later: still replayed
        client = login(api_app, fake_wechat, f"o-{veteran.id}")
        client.post("/v1/travels", json=TRIP, headers=key_header("day-1"), expect=201)
        assert trips_of(veteran) == 2
    with freeze_time("2027-05-11 02:00:01"):  # past 24 hours: the key is ignored, the write runs again
        client = login(api_app, fake_wechat, f"o-{veteran.id}")
        answer = client.post("/v1/travels", json=TRIP, headers=key_header("day-1"), expect=201)
        assert "Idempotent-Replayed" not in answer.headers
        assert trips_of(veteran) == 3
        # the task's body (calling the task itself would run in the app of the last Celery app built)
        assert idempotency_service.purge_expired() == 1  # day-1b; day-1 was renewed by its reuse
    keys = db.session.scalars(select(IdempotencyKey.key)).all()
    assert keys == ["day-1"]


def test_purge_is_scheduled_by_beat(app):
    schedule = app.config["CELERY_BEAT_SCHEDULE"].values()
    assert any(entry["task"] == "idempotency.purge_expired" for entry in schedule)
    assert "backend.idempotency.tasks" in app.config["CELERY_TASK_MODULES"]
    assert idempotency_tasks.purge_expired.name == "idempotency.purge_expired"


@freeze_time(TODAY)
def test_stored_answers_are_encrypted_at_rest(traveller):
    _, client = traveller
    client.call("PATCH", "/v1/me", json={"address": "奥克兰皇后街1号"}, headers=key_header("addr"), expect=200)
    client.post("/v1/travels", json={**TRIP, "destination": "NZ"}, headers=key_header("nz"), expect=201)
    sealed = " ".join(db.session.scalars(select(IdempotencyKey.response_sealed)).all())
    for secret in ("奥克兰", '"NZ"', "新西兰", '"2027-05-20"', "destination"):  # quotes never occur in base64
        assert secret not in sealed


@freeze_time(TODAY)
def test_reads_ignore_the_key_and_patch_put_delete_honour_it(traveller):
    veteran, client = traveller
    client.get("/v1/travels", headers=key_header("read"), expect=200)
    client.get("/v1/travels", headers=key_header("read"), expect=200)
    assert db.session.scalar(select(func.count()).select_from(IdempotencyKey)) == 0
    client.call("PATCH", "/v1/me", json={"address": "青山镇3号"}, headers=key_header("me"), expect=200)
    replay = client.call("PATCH", "/v1/me", json={"address": "青山镇3号"}, headers=key_header("me"), expect=200)
    assert replay.headers["Idempotent-Replayed"] == "true"


def test_a_retried_upload_matches_although_its_multipart_boundary_differs(api_app):
    def digest(content):
        data = {"section": "employment", "file": (io.BytesIO(content), "a.png")}
        with api_app.test_request_context(
            "/v1/registrations/current/attachments", method="POST", data=data, content_type="multipart/form-data"
        ) as ctx:
            value = request_hash(7)
            assert ctx.request.files["file"].read() == content  # the view still reads the whole file
            return value

    assert digest(b"\x89PNG same") == digest(b"\x89PNG same")
    assert digest(b"\x89PNG same") != digest(b"\x89PNG other")


def test_openapi_documents_the_header_on_every_phone_write(api):
    spec = api.get("/openapi.json", expect=200).get_json()
    param = spec["components"]["parameters"]["IdempotencyKey"]
    assert param["in"] == "header" and param["name"] == "Idempotency-Key"
    ref = {"$ref": "#/components/parameters/IdempotencyKey"}
    public = {"/v1/auth/login", "/v1/auth/refresh", "/v1/wechat/events", "/v1/health"}
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            has = ref in operation.get("parameters", [])
            assert has == (method != "get" and path not in public), (method, path)
            if has:
                assert "request.idempotency_in_progress" in operation["responses"]["409"]["description"]


def test_claim_service_replays_judges_and_expires(world):
    from tests.registration.helpers import account_for

    account = account_for(create_veteran(station=world.x1))
    now = datetime(2027, 5, 10, 2, tzinfo=UTC)
    claim_id = idempotency_service.claim_key(account_id=account.id, key="s", request_hash="a" * 64, now=now)
    idempotency_service.complete_claim(claim_id=claim_id, status=201, content_type="application/json", body="{}")
    replay = idempotency_service.claim_key(account_id=account.id, key="s", request_hash="a" * 64, now=now)
    assert replay == idempotency_service.Replay(status=201, content_type="application/json", body=b"{}")
    with pytest.raises(idempotency_service.IdempotencyMismatch):
        idempotency_service.claim_key(account_id=account.id, key="s", request_hash="b" * 64, now=now)
    later = now + timedelta(hours=24, seconds=1)
    assert isinstance(
        idempotency_service.claim_key(account_id=account.id, key="s", request_hash="b" * 64, now=later), int
    )


@freeze_time(TODAY)
def test_a_key_never_replays_one_veterans_answer_after_the_account_is_rebound(traveller, world):
    from backend.accounts.models import WechatAccount

    veteran, client = traveller
    body = {"address": "青山镇5号"}
    client.call("PATCH", "/v1/me", json=body, headers=key_header("rebind"), expect=200)
    account = db.session.scalar(select(WechatAccount).where(WechatAccount.veteran_id == veteran.id))
    account.veteran_id = create_veteran(station=world.x1).id  # unbound and bound to someone else within 24 h
    db.session.flush()
    response = client.call("PATCH", "/v1/me", json=body, headers=key_header("rebind"), expect=422)
    assert response.get_json()["error"]["code"] == "request.idempotency_mismatch"
    assert "Idempotent-Replayed" not in response.headers
