"""lean slice (issue 12): the phone token check's cached Principal, its invalidation, and statement counts.

Counts, never timings: each read stays within a small number of SQL statements so a regression shows. Every
invalidation takes effect on the very next request, in one process and across two apps sharing Redis.
"""

import pytest
from flask_jwt_extended import verify_jwt_in_request
from sqlalchemy import select

from backend import cache
from backend.accounts import service as accounts_service
from backend.accounts.models import WechatAccount
from backend.db import transaction
from backend.extensions import db
from backend.veterans.models import Veteran
from miniprogram_api.security import requires_veteran
from tests.api.helpers import bound_client, login, phone_code
from tests.factories import create_veteran
from tests.helpers import ApiClient, sql_statements


@pytest.fixture
def veteran(world):
    return create_veteran(station=world.x1, grid=world.x1_grid, name="钱七")


# The test harness turns each session's transaction into a savepoint (tests/conftest.py); in production that is the
# driver's implicit BEGIN and the pool's ROLLBACK, which never pass through cursor execution. Not counted.
def count_statements(connection):
    """Every SQL statement sent on the test's connection (all apps share it) inside the block."""
    return sql_statements(connection)


def _account_of(veteran):
    return db.session.scalars(select(WechatAccount).where(WechatAccount.veteran_id == veteran.id)).one()


def test_authenticated_no_op_costs_no_statement_with_a_warm_cache(api_app, fake_wechat, veteran, _db):
    client = bound_client(api_app, fake_wechat, veteran)
    headers = {"Authorization": f"Bearer {client.token}"}
    client.get("/v1/inbox/unread-count", expect=200)  # warms the cache
    with api_app.test_request_context(headers=headers), count_statements(_db) as seen:
        requires_veteran()  # the token check plus the cached user: what every veteran route runs first
    assert seen == []


def test_a_cache_outage_falls_back_to_the_database_never_a_500(api_app, fake_wechat, veteran, monkeypatch):
    client = bound_client(api_app, fake_wechat, veteran)

    def down(*args, **kwargs):
        raise ConnectionError("cache down")

    monkeypatch.setattr(cache, "get_many", down)
    monkeypatch.setattr(cache, "set", down)
    client.get("/v1/inbox/unread-count", expect=200)
    with transaction():
        accounts_service.logout(account=db.session.get(WechatAccount, _account_of(veteran).id))
    client.get("/v1/inbox/unread-count", expect=401)  # read from the database: the logout is seen at once


def test_a_cold_cache_costs_two_small_statements(api_app, fake_wechat, veteran, _db):
    client = bound_client(api_app, fake_wechat, veteran)
    cache.clear()
    with api_app.test_request_context(headers={"Authorization": f"Bearer {client.token}"}):
        with count_statements(_db) as seen:
            verify_jwt_in_request()
    assert len(seen) == 2  # the account with its veteran's status; its live token families


@pytest.mark.parametrize(
    ("path", "bound"),
    [
        ("/v1/me", 1),  # the veteran with its station and grid (one joined select)
        ("/v1/inbox", 1),  # one page of messages; the veteran id comes from the token check
        ("/v1/inbox/unread-count", 1),
        ("/v1/registrations/current", 6),  # veteran, window, registration, last approved, attachments, trips
    ],
)
def test_phone_reads_stay_within_their_statement_budget(api_app, fake_wechat, veteran, _db, path, bound):
    client = bound_client(api_app, fake_wechat, veteran)
    client.get(path, expect=200)  # warm: the cached Principal
    with count_statements(_db) as seen:
        client.get(path, expect=200)
    assert len(seen) <= bound, seen


def test_portal_veteran_list_stays_within_its_statement_budget(portal, world, _db):
    """A fixed number of statements whatever the page holds (no select per row for its station or grid)."""
    portal.login(world.staff_x)
    counts = []
    for _ in range(2):
        for _ in range(3):
            create_veteran(station=world.x1, grid=world.x1_grid)
        portal.get("/veterans/", expect=200)
        with count_statements(_db) as seen:
            portal.get("/veterans/", expect=200)
        counts.append(len(seen))
    assert counts[0] == counts[1] <= 8, counts


# --- invalidation: each change takes effect on the very next request --------------------------------------------


def _logout(client, veteran):
    client.post("/v1/auth/logout", expect=200)


def _bump_generation(client, veteran):
    with transaction():
        _account_of(veteran).token_generation += 1


def _deceased(client, veteran):
    with transaction():
        db.session.get(Veteran, veteran.id).status = "deceased"


def _transferred(client, veteran):
    with transaction():
        db.session.get(Veteran, veteran.id).status = "transferred"


@pytest.mark.parametrize(
    ("change", "status", "code"),
    [
        (_logout, 401, "auth.token_revoked"),
        (_bump_generation, 401, "auth.token_revoked"),
        (_deceased, 403, "accounts.veteran_inactive"),
        (_transferred, 403, "accounts.veteran_inactive"),
    ],
)
def test_each_change_takes_effect_on_the_next_request(api_app, fake_wechat, veteran, change, status, code):
    client = bound_client(api_app, fake_wechat, veteran)
    client.get("/v1/inbox", expect=200)  # the Principal is cached now
    change(client, veteran)
    body = client.get("/v1/inbox", expect=status).get_json()
    assert body["error"]["code"] == code


def test_unbinding_by_staff_takes_effect_on_the_next_request(api_app, fake_wechat, world, veteran):
    client = bound_client(api_app, fake_wechat, veteran)
    client.get("/v1/inbox", expect=200)
    accounts_service.unbind(actor=world.staff_x, veteran_id=veteran.id)
    assert client.get("/v1/inbox", expect=401).get_json()["error"]["code"] == "auth.token_revoked"


def test_binding_takes_effect_on_the_next_request(api_app, fake_wechat, veteran):
    client = login(api_app, fake_wechat, "o-bind-next")
    assert client.get("/v1/inbox", expect=403).get_json()["error"]["code"] == "accounts.not_bound"
    client.post(
        "/v1/auth/bind",
        json={
            "name": veteran.name,
            "id_number": veteran.id_number,
            "phone_code": phone_code(fake_wechat, veteran.phone),
        },
        expect=200,
    )
    client.get("/v1/inbox", expect=200)


def test_refresh_reuse_revokes_the_family_on_the_next_request(api_app, fake_wechat, veteran):
    client = bound_client(api_app, fake_wechat, veteran)
    client.get("/v1/inbox", expect=200)
    spent = client.tokens["refresh_token"]
    fresh = client.post("/v1/auth/refresh", headers={"Authorization": f"Bearer {spent}"}, expect=200).get_json()
    client.post("/v1/auth/refresh", headers={"Authorization": f"Bearer {spent}"}, expect=401)  # reuse
    for token in (client.token, fresh["access_token"]):
        client.token = token
        assert client.get("/v1/inbox", expect=401).get_json()["error"]["code"] == "auth.token_revoked"


def test_a_stale_refusal_is_checked_against_the_database(api_app, fake_wechat, veteran):
    """A login after the Principal was cached opens a family the cached value does not list: still accepted."""
    first = bound_client(api_app, fake_wechat, veteran, openid="o-two")
    first.get("/v1/inbox", expect=200)
    second = login(api_app, fake_wechat, "o-two")
    second.get("/v1/inbox", expect=200)


def test_a_rolled_back_change_forgets_nothing_and_refuses_nothing(api_app, fake_wechat, veteran):
    client = bound_client(api_app, fake_wechat, veteran)
    client.get("/v1/inbox", expect=200)
    with pytest.raises(RuntimeError):
        with transaction():
            _account_of(veteran).token_generation += 1
            db.session.flush()
            raise RuntimeError
    client.get("/v1/inbox", expect=200)


# --- two app instances sharing Redis -------------------------------------------------------------------------------


@pytest.fixture
def shared_apps(config, redis_url, _db):
    """Two mini program apps with the same REDIS_URL, both on the test's connection."""
    from miniprogram_api import create_app

    pair = [create_app(type("RedisConfig", (config,), {"REDIS_URL": redis_url})) for _ in range(2)]
    for flask_app in pair:
        with flask_app.app_context():
            for key in list(db.engines):
                db.engines[key] = _db
            cache.clear()
    return pair


@pytest.mark.redis
def test_invalidation_reaches_another_app_sharing_redis(shared_apps, fake_wechat, veteran):
    one, two = shared_apps
    client = bound_client(one, fake_wechat, veteran)
    other = ApiClient(two, token=client.token)  # the same token, served by app two
    other.get("/v1/inbox", expect=200)  # app two caches the Principal in Redis
    with one.app_context():
        with transaction():
            db.session.get(Veteran, veteran.id).status = "deceased"
    assert other.get("/v1/inbox", expect=403).get_json()["error"]["code"] == "accounts.veteran_inactive"
    with one.app_context():
        with transaction():
            db.session.get(Veteran, veteran.id).status = "active"
    other.get("/v1/inbox", expect=200)
    client.post("/v1/auth/logout", expect=200)  # through app one
    assert other.get("/v1/inbox", expect=401).get_json()["error"]["code"] == "auth.token_revoked"


@pytest.mark.redis
def test_a_warm_redis_cache_serves_the_token_check_without_a_statement(shared_apps, fake_wechat, veteran, _db):
    one, two = shared_apps
    client = bound_client(one, fake_wechat, veteran)
    client.get("/v1/inbox", expect=200)  # cached in Redis by app one
    with two.test_request_context(headers={"Authorization": f"Bearer {client.token}"}):
        with count_statements(_db) as seen:
            requires_veteran()
    assert seen == []


def test_a_write_reads_nothing_again_after_its_commit(api_app, fake_wechat, veteran, _db):
    """PATCH /me answers from the objects it committed (expire_on_commit=False): no SELECT after the last write."""
    client = bound_client(api_app, fake_wechat, veteran)
    client.get("/v1/me", expect=200)
    with count_statements(_db) as seen:
        body = client.call("PATCH", "/v1/me", json={"address": "青山路1号"}, expect=200).get_json()
    assert body["address"] == "青山路1号" and body["station"]
    last_write = max(i for i, sql in enumerate(seen) if sql.startswith(("INSERT", "UPDATE")))
    assert not [sql for sql in seen[last_write + 1 :] if sql.startswith("SELECT")], seen


@pytest.mark.parametrize("claims", [{"fam": True}, {"fam": "1"}, {"fam": 1.0}, {"sub": str(2**63)}, {"sub": "x"}])
def test_odd_claims_signed_with_the_key_are_refused_not_matched_loosely(api_app, fake_wechat, veteran, claims):
    """A cached family set must not match fam=True against family 1; out-of-range ids never reach the database."""
    import jwt as pyjwt

    client = bound_client(api_app, fake_wechat, veteran)
    client.get("/v1/inbox", expect=200)
    payload = {**pyjwt.decode(client.token, options={"verify_signature": False}), **claims}
    client.token = pyjwt.encode(payload, api_app.config["JWT_SECRET_KEY"], algorithm="HS256")
    assert client.get("/v1/inbox", expect=401).get_json()["error"]["code"] == "auth.token_revoked"
