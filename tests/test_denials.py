"""Refusals are audited once per actor, request and minute, and out of reach still answers exactly like not found."""

import re

import pytest
from freezegun import freeze_time
from sqlalchemy import select

from backend import denials
from backend.audit.models import AuditLog
from backend.extensions import db
from backend.inbox.service import post_message
from tests.api.helpers import bound_client
from tests.factories import add_objects, create_veteran
from tests.helpers import portal_as

MISSING = 2_000_000_000


def _denied():
    return db.session.scalars(select(AuditLog).where(AuditLog.action == "access.denied").order_by(AuditLog.id)).all()


def _page(response):
    """The page without its request id, which differs on every request."""
    return re.sub(r"请求编号 \S+", "", response.get_data(as_text=True))


def _error(response):
    body = response.get_json()
    body.pop("request_id", None)
    body["error"].pop("request_id", None)
    return body


@pytest.fixture
def objects(world):
    return add_objects(world)


@pytest.mark.parametrize(
    "path,key,object_type",
    [
        ("/veterans/{veteran}", "veteran", "veteran"),
        ("/veterans/{veteran}/edit", "veteran", "veteran"),
        ("/veterans/import/{import_job}", "import_job", "veteran_import_job"),
        ("/orgs/{x}", "x", "org_unit"),
    ],
)
def test_out_of_scope_on_the_portal_is_a_plain_404_and_audited_once(portal_app, objects, path, key, object_type):
    ids = {"veteran": objects.veteran.id, "import_job": objects.import_job.id, "x": objects.x.id}
    client = portal_as(portal_app, objects.sys_admin_y if key == "x" else objects.staff_y)
    foreign = client.get(path.format(**ids), expect=404)
    missing = client.get(path.format(**dict.fromkeys(ids, MISSING)), expect=404)
    assert _page(foreign) == _page(missing)
    (row,) = _denied()
    assert row.result == "denied" and row.actor_type == "staff" and row.object_type == object_type
    assert row.object_id == str(ids[key])
    assert row.details["reason"] == "out_of_scope" and row.details["asked"].startswith("GET ")
    for _ in range(3):
        client.get(path.format(**ids), expect=404)
    assert len(_denied()) == 1  # coalesced within the minute


def test_out_of_scope_write_is_audited(portal_app, objects):
    client = portal_as(portal_app, objects.staff_y)
    client.post(f"/veterans/{objects.veteran.id}/unbind", expect=404)
    (row,) = _denied()
    assert row.details["asked"] == "POST veterans.unbind" and row.object_id == str(objects.veteran.id)


def test_missing_records_are_not_refusals(portal_app, objects, api_app, fake_wechat):
    portal_as(portal_app, objects.staff_y).get(f"/veterans/{MISSING}", expect=404)
    client = bound_client(api_app, fake_wechat, create_veteran(station=objects.y1))
    client.post(f"/v1/inbox/{MISSING}/read", expect=404)
    client.post(f"/v1/travels/{MISSING}/cancel", expect=404)
    assert _denied() == []


def test_permission_refusals_are_coalesced_too(portal_app, world):
    client = portal_as(portal_app, world.staff_x)
    for _ in range(3):
        client.get("/audit/", expect=403)
    (row,) = _denied()
    assert row.details["reason"] == "permission" and row.details["endpoint"] == "audit.index"


def test_other_veterans_records_on_the_api_are_404_and_audited(api_app, fake_wechat, objects):
    owner = objects.veteran
    message = post_message(veteran_id=owner.id, kind="notice", title="通知", body="正文")
    client = bound_client(api_app, fake_wechat, create_veteran(station=objects.x1))
    calls = [
        ("POST", "/v1/inbox/{}/read", message.id, "inbox_message"),
        ("POST", "/v1/travels/{}/cancel", objects.trip.id, "trip"),
        ("POST", "/v1/travels/{}/depart", objects.trip.id, "trip"),
        ("DELETE", "/v1/registrations/current/attachments/{}", objects.attachment.id, "registration_attachment"),
    ]
    for method, path, object_id, object_type in calls:
        foreign = client.call(method, path.format(object_id), expect=404)
        missing = client.call(method, path.format(MISSING), expect=404)
        assert _error(foreign) == _error(missing), path
        client.call(method, path.format(object_id), expect=404)  # a repeat: coalesced
        row = _denied()[-1]
        assert (row.object_type, row.object_id, row.actor_type) == (object_type, str(object_id), "veteran")
        assert row.details["reason"] == "not_owner" and row.result == "denied"
    assert len(_denied()) == len(calls)
    assert db.session.get(type(message), message.id).read_at is None


def test_revoked_token_is_refused_and_audited_once(api_app, fake_wechat, world):
    client = bound_client(api_app, fake_wechat, create_veteran(station=world.x1))
    client.post("/v1/auth/logout", expect=200)
    for _ in range(3):
        assert client.get("/v1/me", expect=401).get_json()["error"]["code"] == "auth.token_revoked"
    (row,) = _denied()
    assert row.actor_type == "veteran" and row.object_type == "wechat_account" and row.object_id == str(row.actor_id)
    assert row.details["reason"] == "token_revoked" and row.details["asked"] == "GET me.get_me"
    client.get("/v1/inbox", expect=401)
    assert len(_denied()) == 2  # another request is another row


def test_coalescing_window_is_one_minute_per_actor_and_request(app, world):
    def refuse(actor, method="GET"):
        with app.test_request_context("/veterans/1", method=method):
            return denials.record_refusal(actor=actor, reason="out_of_scope", object_type="veteran", object_id=1)

    with freeze_time("2027-03-01 02:00:00") as clock:
        assert refuse(world.staff_x) is not None
        clock.tick(59)
        assert refuse(world.staff_x) is None
        assert refuse(world.staff_y) is not None  # another actor
        assert refuse(world.staff_x, "POST") is not None  # another request
        clock.tick(2)
        assert refuse(world.staff_x) is not None
    assert len(_denied()) == 4


@pytest.mark.redis
def test_coalescing_uses_redis_when_configured(app, world, redis_url):
    import redis

    client = redis.Redis.from_url(redis_url)
    for key in client.scan_iter("audit:denied:*"):
        client.delete(key)
    app.config["REDIS_URL"] = redis_url
    try:
        with app.test_request_context("/veterans/1"):
            first = denials.record_refusal(actor=world.staff_x, reason="out_of_scope")
            second = denials.record_refusal(actor=world.staff_x, reason="out_of_scope")
        assert first is not None and second is None
        assert client.ttl(f"audit:denied:staff:{world.staff_x.id}:GET unknown") > 0
    finally:
        app.config["REDIS_URL"] = None
        for key in client.scan_iter("audit:denied:*"):
            client.delete(key)


def _failing_audit(monkeypatch):
    from sqlalchemy.exc import OperationalError

    from backend.audit import service as audit_service

    def fail(**kwargs):
        raise OperationalError("INSERT INTO audit_log", {}, Exception("the database is gone"))

    monkeypatch.setattr(audit_service, "record_now", fail)


def test_a_failing_audit_write_never_fails_the_refusal(portal_app, objects, api_app, fake_wechat, monkeypatch):
    portal = portal_as(portal_app, objects.staff_y)
    api = bound_client(api_app, fake_wechat, create_veteran(station=objects.x1))
    api.post("/v1/auth/logout", expect=200)
    _failing_audit(monkeypatch)
    portal.get(f"/veterans/{objects.veteran.id}", expect=404)
    portal.get("/audit/", expect=403)
    api.get("/v1/me", expect=401)
    monkeypatch.undo()
    portal.get(f"/veterans/{objects.veteran.id}", expect=404)  # not coalesced away: nothing was written before
    assert [row.details["reason"] for row in _denied()] == ["out_of_scope"]


@pytest.mark.redis
def test_a_failed_refusal_row_does_not_leave_a_redis_mark(app, world, redis_url, monkeypatch):
    import redis

    client = redis.Redis.from_url(redis_url)
    key = f"audit:denied:staff:{world.staff_x.id}:GET unknown"
    client.delete(key)
    monkeypatch.setitem(app.config, "REDIS_URL", redis_url)
    with app.test_request_context("/veterans/1"):
        with monkeypatch.context() as patch:
            _failing_audit(patch)
            assert denials.record_refusal(actor=world.staff_x, reason="out_of_scope") is None
        assert not client.exists(key)
        assert denials.record_refusal(actor=world.staff_x, reason="out_of_scope") is not None
    client.delete(key)
