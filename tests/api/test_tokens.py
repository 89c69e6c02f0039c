"""S9: seven kinds of bad token, each rejected with 401 on every protected route; a good token passes."""

import base64
import json
import time

import jwt as pyjwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.api.helpers import bound_client
from tests.factories import create_veteran

# (method, path) of every route that needs an access token; refresh takes a refresh token.
PROTECTED = [
    ("POST", "/v1/auth/logout"),
    ("POST", "/v1/auth/bind"),
    ("GET", "/v1/subscriptions"),
    ("POST", "/v1/subscriptions"),
    ("GET", "/v1/me"),
    ("PATCH", "/v1/me"),
    ("GET", "/v1/inbox"),
    ("GET", "/v1/inbox/unread-count"),
    ("POST", "/v1/inbox/1/read"),
]
BAD = ["alg_none", "rs256_confusion", "expired", "not_yet_valid", "wrong_audience", "wrong_type", "tampered"]


def _b64(data):
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def make_bad(kind, claims, secret, refresh_claims):
    now = int(time.time())
    if kind == "alg_none":
        return f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims)}."
    if kind == "rs256_confusion":
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        return pyjwt.encode(claims, key, algorithm="RS256")
    if kind == "expired":
        return pyjwt.encode({**claims, "exp": now - 10, "iat": now - 7300}, secret, algorithm="HS256")
    if kind == "not_yet_valid":
        return pyjwt.encode({**claims, "nbf": now + 3600}, secret, algorithm="HS256")
    if kind == "wrong_audience":
        return pyjwt.encode({**claims, "aud": "someone-else"}, secret, algorithm="HS256")
    if kind == "wrong_type":
        return pyjwt.encode(refresh_claims, secret, algorithm="HS256")
    if kind == "tampered":
        good = pyjwt.encode(claims, secret, algorithm="HS256")
        head, payload, sig = good.split(".")
        return f"{head}.{_b64({**claims, 'sub': '999999'})}.{sig}"
    raise ValueError(kind)


@pytest.fixture
def tokens(api_app, fake_wechat, world):
    client = bound_client(api_app, fake_wechat, create_veteran(station=world.x1))
    decode = {"options": {"verify_signature": False}}
    access = pyjwt.decode(client.tokens["access_token"], **decode)
    refresh = pyjwt.decode(client.tokens["refresh_token"], **decode)
    return client, access, refresh, api_app.config["JWT_SECRET_KEY"]


@pytest.mark.parametrize("kind", BAD)
def test_bad_tokens_are_rejected_on_every_protected_route(api_app, tokens, kind):
    client, access, refresh, secret = tokens
    token = make_bad(kind, access, secret, refresh)
    raw = api_app.test_client()
    for method, path in PROTECTED:
        response = raw.open(path, method=method, headers={"Authorization": f"Bearer {token}"}, json={})
        assert response.status_code == 401, (kind, method, path, response.status_code)
        assert response.get_json()["error"]["code"].startswith("auth.")
    # the refresh route: the same attacks built from the refresh token (wrong type = an access token)
    token = make_bad(kind, refresh, secret, access)
    assert raw.post("/v1/auth/refresh", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_a_re_signed_good_token_passes(api_app, tokens):
    """Control: the same construction with nothing wrong is accepted, so the cases above fail for their reason."""
    client, access, refresh, secret = tokens
    token = pyjwt.encode(access, secret, algorithm="HS256")
    assert api_app.test_client().get("/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200


def test_missing_token_is_401_on_every_protected_route(api_app):
    raw = api_app.test_client()
    for method, path in PROTECTED:
        response = raw.open(path, method=method, json={})
        assert response.status_code == 401 and response.get_json()["error"]["code"] == "auth.required"


def test_jwt_key_is_at_least_256_bits(api_app):
    assert len(api_app.config["JWT_SECRET_KEY"].encode()) >= 32


# --- issue 10: refresh tokens rotate on use; reuse of a spent one revokes its whole family ---------------------------


def _refresh(client, refresh_token, expect=None):
    return client.post("/v1/auth/refresh", headers={"Authorization": f"Bearer {refresh_token}"}, expect=expect)


def test_refresh_rotates_and_the_old_refresh_token_is_spent(api_app, tokens):
    from backend.accounts.models import RefreshToken
    from backend.extensions import db

    client, _, first, _ = tokens
    old = client.tokens["refresh_token"]
    body = _refresh(client, old, expect=200).get_json()
    assert body["refresh_token"] != old and body["access_token"] != client.tokens["access_token"]
    decode = {"options": {"verify_signature": False}}
    new = pyjwt.decode(body["refresh_token"], **decode)
    assert new["fam"] == first["fam"] and new["jti"] != first["jti"]
    assert db.session.get(RefreshToken, first["jti"]).spent_at is not None
    assert db.session.get(RefreshToken, new["jti"]).spent_at is None
    # the chain goes on: each successor is good exactly once
    third = _refresh(client, body["refresh_token"], expect=200).get_json()
    client.token = third["access_token"]
    client.get("/v1/me", expect=200)


def test_reusing_a_spent_refresh_token_revokes_the_whole_family(api_app, tokens):
    from sqlalchemy import select

    from backend.audit.models import AuditLog
    from backend.extensions import db

    client, _, _, _ = tokens
    stolen = client.tokens["refresh_token"]
    fresh = _refresh(client, stolen, expect=200).get_json()  # the rightful client rotates
    answer = _refresh(client, stolen, expect=401).get_json()  # the thief replays the spent token
    assert answer["error"]["code"] == "auth.token_revoked"
    # every token of the family is dead now: the first access token, the rotated pair
    for access in (client.tokens["access_token"], fresh["access_token"]):
        client.token = access
        assert client.get("/v1/me", expect=401).get_json()["error"]["code"] == "auth.token_revoked"
    assert _refresh(client, fresh["refresh_token"], expect=401).get_json()["error"]["code"] == "auth.token_revoked"
    rows = db.session.scalars(select(AuditLog).where(AuditLog.action == "veteran.token_reuse")).all()
    assert [r.result for r in rows] == ["denied"]


def test_reuse_revokes_only_that_login(api_app, fake_wechat, world):
    """Another login of the same WeChat account (another family) keeps working."""
    from tests.api.helpers import login

    veteran = create_veteran(station=world.x1)
    phone = bound_client(api_app, fake_wechat, veteran, openid="o-two-logins")
    other = login(api_app, fake_wechat, "o-two-logins")
    spent = phone.tokens["refresh_token"]
    _refresh(phone, spent, expect=200)
    _refresh(phone, spent, expect=401)
    other.get("/v1/me", expect=200)
    _refresh(other, other.tokens["refresh_token"], expect=200)


def test_refresh_token_without_a_family_is_refused(api_app, tokens):
    """Refresh tokens signed before families existed (no `fam`, unknown jti) cannot be exchanged: log in again."""
    client, access, refresh, secret = tokens
    legacy = pyjwt.encode({k: v for k, v in refresh.items() if k != "fam"}, secret, algorithm="HS256")
    assert _refresh(client, legacy, expect=401).get_json()["error"]["code"] == "auth.token_revoked"
    unknown = pyjwt.encode({**refresh, "jti": "00000000-0000-4000-8000-000000000000"}, secret, algorithm="HS256")
    assert _refresh(client, unknown, expect=401).get_json()["error"]["code"] == "auth.token_revoked"
    _refresh(client, client.tokens["refresh_token"], expect=200)  # an unknown jti is not reuse: the family lives
    for bad in (True, "1", 1.5, [1]):
        forged = pyjwt.encode({**refresh, "fam": bad}, secret, algorithm="HS256")
        assert _refresh(client, forged, expect=401).status_code == 401


def test_a_family_of_another_account_is_refused(api_app, fake_wechat, world, tokens):
    """The `fam` claim must belong to the token's own account."""
    from tests.api.helpers import login

    client, access, _, secret = tokens
    stranger = login(api_app, fake_wechat, "o-stranger")
    stranger_fam = pyjwt.decode(stranger.tokens["access_token"], options={"verify_signature": False})["fam"]
    forged = pyjwt.encode({**access, "fam": stranger_fam}, secret, algorithm="HS256")
    client.token = forged
    assert client.get("/v1/me", expect=401).get_json()["error"]["code"] == "auth.token_revoked"


def test_refresh_answers_the_access_token_lifetime(api_app, tokens):
    client, *_ = tokens
    body = _refresh(client, client.tokens["refresh_token"], expect=200).get_json()
    assert body["expires_in"] == int(api_app.config["JWT_ACCESS_TOKEN_EXPIRES"].total_seconds())


@pytest.fixture(scope="module")
def race_api():
    """An API app on a database of its own (real commits on separate connections), PostgreSQL only."""
    from miniprogram_api import create_app
    from tests.conftest import dispose_engines, own_database

    app = own_database("token_race", create_app, pool_size=6)
    yield app
    dispose_engines(app)


@pytest.mark.postgres
@pytest.mark.no_db
def test_concurrent_double_refresh_one_wins_the_other_is_reuse(race_api):
    """Two exchanges of one refresh token at the same instant, 30 trials: one 200 and one 401, never a 500."""
    import threading

    from backend.accounts.models import WechatAccount
    from backend.db import transaction
    from backend.extensions import db
    from miniprogram_api.security import issue_tokens

    with race_api.app_context():
        with transaction():
            accounts = [WechatAccount(openid=f"o-race-{i}-{time.time_ns()}") for i in range(30)]
            db.session.add_all(accounts)
        with race_api.test_request_context():
            pairs = [issue_tokens(account) for account in accounts]
        db.session.remove()

    outcomes = []
    for pair in pairs:
        barrier, statuses = threading.Barrier(2), []

        def exchange(barrier=barrier, statuses=statuses, token=pair["refresh_token"]):
            client = race_api.test_client()
            barrier.wait()
            response = client.post("/v1/auth/refresh", headers={"Authorization": f"Bearer {token}"})
            statuses.append(response.status_code)

        threads = [threading.Thread(target=exchange) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        outcomes.append(sorted(statuses))
    assert all(o == [200, 401] for o in outcomes), outcomes


def test_expired_refresh_tokens_and_empty_families_are_purged(api_app, tokens):
    from datetime import timedelta

    from sqlalchemy import func, select

    from backend.accounts import tokens as tokens_service
    from backend.accounts.models import RefreshToken, TokenFamily
    from backend.db import utcnow
    from backend.extensions import db

    client, _, refresh, _ = tokens
    _refresh(client, client.tokens["refresh_token"], expect=200)
    family = refresh["fam"]
    assert tokens_service.purge_expired() == 0  # nothing has expired yet
    later = utcnow() + api_app.config["JWT_REFRESH_TOKEN_EXPIRES"] + timedelta(minutes=1)
    assert tokens_service.purge_expired(now=later) == 2
    assert (
        db.session.scalar(select(func.count()).select_from(RefreshToken).where(RefreshToken.family_id == family)) == 0
    )
    assert db.session.get(TokenFamily, family) is None
    schedule = api_app.config["CELERY_BEAT_SCHEDULE"].values()
    assert any(entry["task"] == "accounts.purge_expired_tokens" for entry in schedule)
    assert "backend.accounts.tasks" in api_app.config["CELERY_TASK_MODULES"]
