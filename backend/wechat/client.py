"""Calls to WeChat through wechatpy 1.8.18, redirected to WECHAT_API_BASE, with timeouts and mapped errors.

The access token is shared by every process: wechatpy's RedisStorage when REDIS_URL is set, memory otherwise;
it is fetched with stable_token (the same token for every caller). Never log request URLs or raw responses: they
carry the secret, the access token and session keys.
"""

import logging
import os
import time
from dataclasses import dataclass

import requests
from flask import current_app
from wechatpy import WeChatClient
from wechatpy.exceptions import WeChatClientException
from wechatpy.session.memorystorage import MemoryStorage

from backend.wechat.errors import (
    WechatCodeBlocked,
    WechatCodeInvalid,
    WechatCodeUsed,
    WechatInvalidArgument,
    WechatNoQuota,
    WechatPhoneCodeInvalid,
    WechatUnavailable,
)

log = logging.getLogger(__name__)
TIMEOUT = (3, 10)
HTTP_POOL = 100  # kept-alive connections to WeChat per process: at least the notify worker's thread count
_clients = {}


class AdapterClient(WeChatClient):
    """WeChatClient with every URL under `api_base` and a stable_token fetch with a timeout (wechat.md §10.3)."""

    def __init__(self, appid, secret, api_base, session=None, timeout=TIMEOUT):
        super().__init__(appid, secret, session=session, timeout=timeout, auto_retry=True)
        # One client per process is shared by every worker thread (a notify worker runs --pool threads, issue 21):
        # keep a connection per thread instead of requests' 10, beyond which each send opens and drops a connection.
        self._http.mount(api_base, requests.adapters.HTTPAdapter(pool_maxsize=HTTP_POOL))
        # The environment's proxy and CA bundle settings are read once here, not on every call: requests re-reads
        # os.environ per request (trust_env), ~11 % of a notify worker's CPU per send in a profile (issue 21).
        self._http.proxies = requests.utils.get_environ_proxies(api_base)
        self._http.verify = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True
        self._http.trust_env = False
        self.api_base = api_base
        self.API_BASE_URL = api_base + "cgi-bin/"
        self.wxa.API_BASE_URL = api_base

    def fetch_access_token(self):
        try:
            r = requests.post(
                self.api_base + "cgi-bin/stable_token",
                timeout=self.timeout,
                json={
                    "grant_type": "client_credential",
                    "appid": self.appid,
                    "secret": self.secret,
                    "force_refresh": False,
                },
            )
            r.raise_for_status()
            res = r.json()
        except (requests.RequestException, ValueError) as exc:
            raise WechatUnavailable() from exc
        if int(res.get("errcode", 0) or 0) != 0:
            raise WeChatClientException(int(res["errcode"]), res.get("errmsg"), client=self)
        expires_in = int(res.get("expires_in", 7200))
        self.session.set(self.access_token_key, res["access_token"], expires_in)
        self.expires_at = int(time.time()) + expires_in
        return res


def _storage():
    url = current_app.config.get("REDIS_URL")
    if not url:
        return MemoryStorage()
    import redis
    from wechatpy.session.redisstorage import RedisStorage

    return RedisStorage(
        redis.Redis.from_url(url, socket_timeout=3), prefix=current_app.config.get("WECHAT_TOKEN_PREFIX", "wechatpy")
    )


def get_client():
    """One client per (base, appid) per process; the token itself lives in the shared storage."""
    cfg = current_app.config
    key = (cfg["WECHAT_API_BASE"], cfg["WECHAT_APPID"], cfg.get("REDIS_URL"))
    if key not in _clients:
        _clients[key] = AdapterClient(cfg["WECHAT_APPID"], cfg["WECHAT_SECRET"], cfg["WECHAT_API_BASE"], _storage())
    return _clients[key]


def _call(fn, mapping):
    """Run one WeChat call; map errcodes through `mapping`, anything else to WechatUnavailable."""
    try:
        return fn()
    except WeChatClientException as exc:
        try:
            errcode = int(exc.errcode)
        except (TypeError, ValueError):
            errcode = None
        log.warning("wechat call failed errcode=%s", errcode)  # never the message, request or response
        error = mapping.get(errcode, WechatUnavailable)
        raise error(details={"errcode": errcode}) from None
    except requests.RequestException:
        log.warning("wechat unreachable")
        raise WechatUnavailable() from None


@dataclass(frozen=True)
class Session:
    openid: str
    session_key: str
    unionid: str | None


def code_to_session(code):
    """jscode2session without touching the access token. :raises WechatCodeInvalid, WechatCodeUsed, ...:"""
    client = get_client()
    params = {
        "appid": client.appid,
        "secret": client.secret,
        "js_code": code,
        "grant_type": "authorization_code",
        "access_token": None,
    }
    res = _call(
        lambda: client.get("sns/jscode2session", api_base_url=client.wxa.API_BASE_URL, params=params),
        {40029: WechatCodeInvalid, 40163: WechatCodeUsed, 40226: WechatCodeBlocked},
    )
    if not res.get("openid") or not res.get("session_key"):
        raise WechatUnavailable()
    return Session(openid=res["openid"], session_key=res["session_key"], unionid=res.get("unionid"))


def get_phone_number(code):
    """The pure phone number (no country code) for a getPhoneNumber code. :raises WechatPhoneCodeInvalid:"""
    client = get_client()
    res = _call(
        lambda: client.wxa._post("wxa/business/getuserphonenumber", data={"code": code}),
        {40029: WechatPhoneCodeInvalid, 40163: WechatPhoneCodeInvalid},
    )
    info = res.get("phone_info") or {}
    if (info.get("watermark") or {}).get("appid") != client.appid:
        raise WechatUnavailable()
    return info.get("purePhoneNumber")


def send_subscribe_message(*, openid, template_id, data, page=None):
    """Send one subscribe message; returns the msgid as a string.

    :raises WechatNoQuota: 43101 (no credit, or the user turned the template off).
    :raises WechatInvalidArgument: 47003 (a value breaks the template's rules).
    :raises WechatUnavailable: anything else; details carry WeChat's errcode (None for a timeout or a refused
        connection) and its errmsg without the rid, so the pipeline can tell -1 / 45009 / 45011 apart.
    """
    client = get_client()
    body = {"touser": openid, "template_id": template_id, "data": data, "miniprogram_state": "formal", "lang": "zh_CN"}
    if page:
        body["page"] = page
    try:
        res = client.post("message/subscribe/send", data=body)
    except WeChatClientException as exc:
        try:
            errcode = int(exc.errcode)
        except (TypeError, ValueError):
            errcode = None
        errmsg = str(exc.errmsg or "").split(" rid:")[0][:120]
        log.warning("wechat subscribe send failed errcode=%s", errcode)  # never the payload or the openid
        error = SEND_ERRORS.get(errcode, WechatUnavailable)
        raise error(details={"errcode": errcode, "errmsg": errmsg}) from None
    except requests.RequestException as exc:
        log.warning("wechat subscribe send unreachable (%s)", type(exc).__name__)
        raise WechatUnavailable(details={"errcode": None, "errmsg": type(exc).__name__}) from None
    return str(res.get("msgid"))


SEND_ERRORS = {43101: WechatNoQuota, 47003: WechatInvalidArgument}
