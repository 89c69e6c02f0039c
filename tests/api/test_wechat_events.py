"""WeChat push: official signature vectors, plain and safe mode, JSON and XML, retries without double effects."""

import hashlib
import json
import time

import pytest
from sqlalchemy import select
from wechatpy.crypto import WeChatCrypto

from backend.extensions import db
from backend.subscriptions.models import SubscriptionCredit
from tests.helpers import ApiClient

TOKEN, AES_KEY, APPID = "AAAAA", "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG", "wxdemo0000000000"


@pytest.fixture
def push(api_app, monkeypatch):
    monkeypatch.setitem(api_app.config, "WECHAT_PUSH_TOKEN", TOKEN)
    monkeypatch.setitem(api_app.config, "WECHAT_PUSH_AES_KEY", AES_KEY)
    return ApiClient(api_app)


def sign(*parts):
    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()


def test_official_url_verification_vector(push):
    response = push.get(
        "/v1/wechat/events?signature=f464b24fc39322e44b38aa78f5edd27bd1441696&timestamp=1714036504"
        "&nonce=1514711492&echostr=4375120948345356249",
        expect=200,
    )
    assert response.get_data(as_text=True) == "4375120948345356249"


def test_bad_signature_is_403(push):
    body = push.get("/v1/wechat/events?signature=bad&timestamp=1&nonce=2&echostr=x", expect=403).get_json()
    assert body["error"]["code"] == "wechat.signature_invalid"
    push.post("/v1/wechat/events?signature=bad&timestamp=1&nonce=2", data="{}", expect=403)


def test_official_plain_post_vector(push):
    body = {
        "ToUserName": "gh_97417a04a28d",
        "FromUserName": "o9AgO5Kd5ggOC-bXrbNODIiE3bGY",
        "CreateTime": 1714037059,
        "MsgType": "event",
        "Event": "debug_demo",
        "debug_str": "hello world",
    }
    response = push.post(
        "/v1/wechat/events?signature=899cf89e464efb63f54ddac96b0a0a235f53aa78&timestamp=1714037059&nonce=486452656",
        data=json.dumps(body),
        expect=200,
    )
    assert response.get_data(as_text=True) == "success"


def _credits(openid, template="TPL_CARE"):
    row = db.session.scalars(
        select(SubscriptionCredit).where(
            SubscriptionCredit.openid == openid, SubscriptionCredit.template_id == template
        )
    ).first()
    return row.credits if row else 0


def _post_plain(push, payload, *, xml=False):
    ts, nonce = str(int(time.time())), "12345"
    data = payload if xml else json.dumps(payload)
    return push.post(
        f"/v1/wechat/events?signature={sign(TOKEN, ts, nonce)}&timestamp={ts}&nonce={nonce}&openid=x",
        data=data,
        expect=200,
    )


def popup(openid, items, create_time=1620973045):
    return {
        "ToUserName": "gh_1",
        "FromUserName": openid,
        "CreateTime": str(create_time),
        "MsgType": "event",
        "Event": "subscribe_msg_popup_event",
        "List": items,
    }


def test_popup_event_list_as_object_and_as_array(push, world):
    _post_plain(push, popup("o-a", {"TemplateId": "TPL_CARE", "SubscribeStatusString": "accept", "PopupScene": "0"}))
    assert _credits("o-a") == 1
    _post_plain(
        push,
        popup(
            "o-a",
            [
                {"TemplateId": "TPL_CARE", "SubscribeStatusString": "accept", "PopupScene": 0},
                {"TemplateId": "TPL_BOOKING", "SubscribeStatusString": "reject", "PopupScene": "0"},
                {"TemplateId": "UNKNOWN", "SubscribeStatusString": "accept"},
            ],
            create_time=1620973999,
        ),
    )
    assert _credits("o-a") == 2 and _credits("o-a", "TPL_BOOKING") == 0


def test_retried_push_has_no_double_effect(push):
    event = popup("o-r", {"TemplateId": "TPL_CARE", "SubscribeStatusString": "accept"})
    for _ in range(3):
        assert _post_plain(push, event).get_data(as_text=True) == "success"
    assert _credits("o-r") == 1


def test_xml_popup_with_wrapper_and_change_event_reject(push):
    xml = """<xml><ToUserName><![CDATA[gh_1]]></ToUserName><FromUserName><![CDATA[o-x]]></FromUserName>
    <CreateTime>1610969440</CreateTime><MsgType><![CDATA[event]]></MsgType>
    <Event><![CDATA[subscribe_msg_popup_event]]></Event><SubscribeMsgPopupEvent>
    <List><TemplateId><![CDATA[TPL_CARE]]></TemplateId><SubscribeStatusString><![CDATA[accept]]></SubscribeStatusString>
    <PopupScene>0</PopupScene></List>
    <List><TemplateId><![CDATA[TPL_REGISTRATION]]></TemplateId><SubscribeStatusString><![CDATA[accept]]></SubscribeStatusString>
    <PopupScene>0</PopupScene></List></SubscribeMsgPopupEvent></xml>"""
    _post_plain(push, xml, xml=True)
    assert _credits("o-x") == 1 and _credits("o-x", "TPL_REGISTRATION") == 1
    change = {
        "ToUserName": "gh_1",
        "FromUserName": "o-x",
        "CreateTime": 1610969500,
        "MsgType": "event",
        "Event": "subscribe_msg_change_event",
        "List": {"TemplateId": "TPL_CARE", "SubscribeStatusString": "reject"},
    }
    _post_plain(push, change)
    assert _credits("o-x") == 0 and _credits("o-x", "TPL_REGISTRATION") == 1


def test_sent_event_is_recorded_once(push):
    sent = {
        "ToUserName": "gh_1",
        "FromUserName": "o-s",
        "CreateTime": "1620963428",
        "MsgType": "event",
        "Event": "subscribe_msg_sent_event",
        "List": {"TemplateId": "TPL_CARE", "MsgID": "1864323726461255680", "ErrorCode": "0", "ErrorStatus": "success"},
    }
    _post_plain(push, sent)
    _post_plain(push, sent)
    from backend.subscriptions.models import WechatEvent

    assert len(db.session.scalars(select(WechatEvent).where(WechatEvent.openid == "o-s")).all()) == 1


def _safe_mode_request(payload):
    """Build a safe-mode JSON push with wechatpy's own WeChatCrypto (its envelope is XML; we take Encrypt out)."""
    ts, nonce = str(int(time.time())), "67890"
    crypto = WeChatCrypto(TOKEN, AES_KEY, APPID)
    envelope = crypto.encrypt_message(json.dumps(payload), nonce, ts)
    import xmltodict

    parsed = xmltodict.parse(envelope)["xml"]
    query = (
        f"signature={sign(TOKEN, ts, nonce)}&timestamp={ts}&nonce={nonce}&openid=o-safe"
        f"&encrypt_type=aes&msg_signature={parsed['MsgSignature']}"
    )
    return query, {"ToUserName": "gh_1", "Encrypt": parsed["Encrypt"]}, envelope


def test_safe_mode_json_push(push):
    query, body, _ = _safe_mode_request(popup("o-safe", {"TemplateId": "TPL_CARE", "SubscribeStatusString": "accept"}))
    assert (
        push.post(f"/v1/wechat/events?{query}", data=json.dumps(body), expect=200).get_data(as_text=True) == "success"
    )
    assert _credits("o-safe") == 1


def test_safe_mode_xml_envelope(push):
    query, _, envelope = _safe_mode_request(
        popup("o-safe2", {"TemplateId": "TPL_CARE", "SubscribeStatusString": "accept"})
    )
    push.post(f"/v1/wechat/events?{query}", data=envelope, expect=200)
    assert _credits("o-safe2") == 1


def test_safe_mode_with_bad_msg_signature_is_403(push):
    query, body, _ = _safe_mode_request(popup("o-bad", {"TemplateId": "TPL_CARE", "SubscribeStatusString": "accept"}))
    query = query.rsplit("msg_signature=", 1)[0] + "msg_signature=" + "0" * 40
    push.post(f"/v1/wechat/events?{query}", data=json.dumps(body), expect=403)
    assert _credits("o-bad") == 0


@pytest.mark.parametrize("body", ["not json", "<xml><unclosed>", "[1, 2]", ""])
def test_garbage_body_is_acknowledged_without_effect(push, body):
    ts, nonce = "1", "2"
    push.post(
        f"/v1/wechat/events?signature={sign(TOKEN, ts, nonce)}&timestamp={ts}&nonce={nonce}", data=body, expect=200
    )


def test_production_refuses_plain_mode_and_stale_pushes(push, api_app, monkeypatch):
    monkeypatch.setitem(api_app.config, "WECHAT_PUSH_REQUIRE_AES", True)
    monkeypatch.setitem(api_app.config, "WECHAT_PUSH_MAX_AGE", 300)
    event = popup("o-prod", {"TemplateId": "TPL_CARE", "SubscribeStatusString": "accept"})
    ts, nonce = str(int(time.time())), "1"
    push.post(
        f"/v1/wechat/events?signature={sign(TOKEN, ts, nonce)}&timestamp={ts}&nonce={nonce}",
        data=json.dumps(event),
        expect=403,
    )  # plain mode
    query, body, _ = _safe_mode_request(event)
    push.post(f"/v1/wechat/events?{query}", data=json.dumps(body), expect=200)
    assert _credits("o-prod") == 1
    stale_ts = str(int(time.time()) - 3600)
    stale = query.replace(query.split("timestamp=")[1].split("&")[0], stale_ts)
    push.post(f"/v1/wechat/events?{stale}", data=json.dumps(body), expect=403)
