"""The WeChat adapter against the fake server: tokens, timeouts, error mapping, WeChat's loose formats."""

import pytest
import requests

from backend.wechat import client as wechat
from backend.wechat.errors import WechatInvalidArgument, WechatNoQuota, WechatUnavailable


@pytest.fixture
def adapter(api_app, fake_wechat):
    with api_app.app_context():
        wechat._clients.clear()
        yield wechat
        wechat._clients.clear()


def test_login_does_not_fetch_an_access_token(adapter, fake_wechat):
    code = fake_wechat.mint(fake_wechat.login_codes, "o-1")
    session = adapter.code_to_session(code)
    assert session.openid == "o-1" and fake_wechat.token_fetches == 0


def test_stable_token_is_fetched_once_and_reused(adapter, fake_wechat):
    for phone in ("13800000001", "13800000002"):
        assert adapter.get_phone_number(fake_wechat.mint(fake_wechat.phone_codes, phone)) == phone
    assert fake_wechat.token_fetches == 1


def test_expired_token_is_refetched_transparently(adapter, fake_wechat):
    adapter.get_phone_number(fake_wechat.mint(fake_wechat.phone_codes, "13800000001"))
    fake_wechat.tokens.clear()  # WeChat forgot our token: 40001, wechatpy refetches and retries once
    assert adapter.get_phone_number(fake_wechat.mint(fake_wechat.phone_codes, "13800000002")) == "13800000002"


def test_send_needs_credit_and_checks_values(adapter, fake_wechat):
    with pytest.raises(WechatNoQuota):
        adapter.send_subscribe_message(openid="o-1", template_id="TPL_CARE", data={"thing1": {"value": "您好"}})
    fake_wechat.credits[("o-1", "TPL_CARE")] = 2
    with pytest.raises(WechatInvalidArgument):
        adapter.send_subscribe_message(openid="o-1", template_id="TPL_CARE", data={"thing1": {"value": "长" * 21}})
    msgid = adapter.send_subscribe_message(openid="o-1", template_id="TPL_CARE", data={"thing1": {"value": "您好"}})
    assert int(msgid) > 2**53 and msgid == str(fake_wechat.sent[-1]["msgid"])  # no precision lost


@pytest.mark.parametrize("errcode", [-1, 45009, 45011])
def test_busy_and_quota_errors_map_to_unavailable(adapter, fake_wechat, errcode):
    fake_wechat.failures.append(errcode)
    with pytest.raises(WechatUnavailable):
        adapter.code_to_session("whatever")


def test_timeouts_and_connection_errors_map_to_unavailable(adapter, monkeypatch):
    def boom(*args, **kwargs):
        raise requests.exceptions.ConnectTimeout("timed out")

    monkeypatch.setattr(requests.Session, "request", boom)
    with pytest.raises(WechatUnavailable):
        adapter.code_to_session("x")
    with pytest.raises(WechatUnavailable):
        adapter.get_client().fetch_access_token()


def test_every_call_has_a_timeout(adapter):
    assert adapter.get_client().timeout == wechat.TIMEOUT


def test_loose_formats(adapter, monkeypatch):
    """String errcodes, errcode 0 on success, countryCode as a number: all accepted."""
    client = adapter.get_client()
    monkeypatch.setattr(
        client, "get", lambda *a, **k: {"errcode": 0, "errmsg": "ok", "openid": "o", "session_key": "k"}
    )
    assert adapter.code_to_session("c").openid == "o"
    from wechatpy.exceptions import WeChatClientException

    def string_errcode(*a, **k):
        raise WeChatClientException("40029", "invalid code rid: 1-2-3")

    monkeypatch.setattr(client, "get", string_errcode)
    from backend.wechat.errors import WechatCodeInvalid

    with pytest.raises(WechatCodeInvalid):
        adapter.code_to_session("c")
    phone = {"phone_info": {"purePhoneNumber": "13800000000", "countryCode": 86, "watermark": {"appid": client.appid}}}
    monkeypatch.setattr(client.wxa, "_post", lambda *a, **k: phone)
    assert adapter.get_phone_number("c") == "13800000000"


@pytest.mark.redis
def test_token_is_shared_through_redis(api_app, fake_wechat, monkeypatch, redis_url):
    """Two processes' clients (two adapter instances) share one token through Redis: one fetch in all."""
    monkeypatch.setitem(api_app.config, "REDIS_URL", redis_url)
    monkeypatch.setitem(api_app.config, "WECHAT_TOKEN_PREFIX", "wechatpy-test")
    import redis

    redis.Redis.from_url(redis_url).delete(f"wechatpy-test:{api_app.config['WECHAT_APPID']}_access_token")
    with api_app.app_context():
        first, second = (
            wechat.AdapterClient(
                api_app.config["WECHAT_APPID"],
                api_app.config["WECHAT_SECRET"],
                api_app.config["WECHAT_API_BASE"],
                wechat._storage(),
            ),
            None,
        )
        second = wechat.AdapterClient(
            api_app.config["WECHAT_APPID"],
            api_app.config["WECHAT_SECRET"],
            api_app.config["WECHAT_API_BASE"],
            wechat._storage(),
        )
        assert first.access_token == second.access_token
    assert fake_wechat.token_fetches == 1
