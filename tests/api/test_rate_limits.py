"""S12: login, bind and the event endpoint answer 429 with the envelope above their limits; never 5xx."""

import pytest

from tests.api.helpers import login


@pytest.mark.parametrize(
    "path,limit_key,body",
    [
        ("/v1/auth/login", "API_LOGIN_RATE_LIMIT", {"code": "nope"}),
        ("/v1/wechat/events?signature=x&timestamp=1&nonce=2", "API_EVENTS_RATE_LIMIT", "{}"),
    ],
)
def test_public_endpoints_are_rate_limited(api_app, path, limit_key, body, monkeypatch):
    monkeypatch.setitem(api_app.config, limit_key, "5 per minute")
    raw = api_app.test_client()
    kwargs = {"json": body} if isinstance(body, dict) else {"data": body}
    statuses = [raw.post(path, **kwargs).status_code for _ in range(7)]
    assert statuses[5] == 429 and max(statuses) < 500
    body = raw.post(path, **kwargs).get_json()
    assert body["error"]["code"] == "request.rate_limited"


def test_bind_is_rate_limited(api_app, fake_wechat, monkeypatch):
    monkeypatch.setitem(api_app.config, "API_BIND_RATE_LIMIT", "3 per minute")
    client = login(api_app, fake_wechat)
    statuses = [
        client.post("/v1/auth/bind", json={"name": "a", "id_number": "b", "phone_code": "c"}).status_code
        for _ in range(4)
    ]
    assert statuses[3] == 429 and max(statuses) < 500
