"""The process-local near cache of the phone token check (backend/nearcache.py): serves without a network round trip
once subscribed, drops what any process forgets, and is bypassed whenever it could have missed a forget."""

import json
import time

import pytest
import redis

from backend import cache, nearcache
from backend.db import transaction
from backend.extensions import db
from backend.veterans.models import Veteran
from tests.api.helpers import bound_client
from tests.api.test_lean_requests import _account_of, shared_apps, veteran  # noqa: F401 (fixtures)

pytestmark = pytest.mark.redis


def _wait(predicate, seconds=5.0):
    """Poll until `predicate()` holds (the listener thread works asynchronously); False if it never does."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return False


def _near(flask_app):
    with flask_app.app_context():
        near = nearcache.for_app()
        near.epoch()  # starts the listener
    assert _wait(lambda: near._healthy), "the listener never subscribed"
    return near


def test_a_warm_near_cache_answers_without_redis(shared_apps, fake_wechat, veteran, monkeypatch):  # noqa: F811
    one, _ = shared_apps
    near = _near(one)
    client = bound_client(one, fake_wechat, veteran)
    client.get("/v1/inbox", expect=200)
    assert near.get(_account_of(veteran).id) is not None

    def unreachable(*args, **kwargs):
        raise AssertionError("Redis was asked")

    monkeypatch.setattr(cache, "get_many", unreachable)
    client.get("/v1/inbox", expect=200)


def test_a_forget_in_this_process_reaches_every_near_cache_at_once(shared_apps, fake_wechat, veteran):  # noqa: F811
    one, two = shared_apps
    near_one, near_two = _near(one), _near(two)
    client = bound_client(one, fake_wechat, veteran)
    other = type(client)(two, token=client.token)
    client.get("/v1/inbox", expect=200)
    other.get("/v1/inbox", expect=200)
    account_id = _account_of(veteran).id
    assert near_one.get(account_id) is not None and near_two.get(account_id) is not None
    with one.app_context():
        with transaction():
            db.session.get(Veteran, veteran.id).status = "deceased"
    assert near_two.get(account_id) is None  # dropped synchronously, before any message
    assert other.get("/v1/inbox", expect=403).get_json()["error"]["code"] == "accounts.veteran_inactive"


def test_a_forget_published_by_another_process_drops_the_value(shared_apps, redis_url):  # noqa: F811
    one, _ = shared_apps
    near = _near(one)
    epoch = near.epoch()
    near.put(42, {"gen": 1}, epoch)
    assert near.get(42) == {"gen": 1}
    message = {"origin": "another-process", "keys": [42]}
    redis.Redis.from_url(redis_url).publish(nearcache.CHANNEL, json.dumps(message))
    assert _wait(lambda: near.get(42) is None)


def test_a_value_read_before_a_forget_is_not_kept(shared_apps):  # noqa: F811
    one, _ = shared_apps
    near = _near(one)
    epoch = near.epoch()  # a request starts reading Redis or the database ...
    near.drop([7])  # ... a forget overtakes it ...
    near.put(7, {"gen": 1}, epoch)  # ... and its (possibly stale) value is not kept
    assert near.get(7) is None


def test_without_a_subscription_the_near_cache_is_bypassed(shared_apps):  # noqa: F811
    one, _ = shared_apps
    near = _near(one)
    near.put(9, {"gen": 1}, near.epoch())
    near._healthy = False  # as after a lost connection: a forget could have been missed
    assert near.get(9) is None
    near.put(9, {"gen": 1}, near.epoch())
    assert near.get(9) is None
