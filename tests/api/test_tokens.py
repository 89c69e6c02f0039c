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
