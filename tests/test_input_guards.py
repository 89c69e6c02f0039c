"""The input guards of both apps (backend/webguard.py, miniprogram_api/guards.py): each class of hostile input gets
its documented 4xx, in the envelope (API) or an error page naming the field (portal), and nothing reaches the
database. tests/test_hostile_inputs.py sweeps every route; these pin the exact answers."""

import json
import time

import marshmallow as ma
import pytest
import xmltodict
from sqlalchemy import select
from wechatpy.crypto import WeChatCrypto

from backend.extensions import db
from backend.subscriptions.models import WechatEvent
from backend.webguard import json_problems, json_too_deep
from miniprogram_api.errors import _translate
from tests.api.helpers import bound_client
from tests.api.test_wechat_events import AES_KEY, APPID, TOKEN, sign
from tests.factories import create_veteran
from tests.helpers import ApiClient, PortalClient

DEEP = "[" * 1000 + "]" * 1000


def _error(response, status, code):
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    body = response.get_json()
    assert body["error"]["code"] == code
    assert body["error"]["request_id"] == body["request_id"] == response.headers["X-Request-Id"]
    return body["error"]


@pytest.fixture
def veteran_api(api_app, fake_wechat, world):
    return bound_client(api_app, fake_wechat, create_veteran(station=world.x1))


@pytest.fixture
def push(api_app, monkeypatch):
    monkeypatch.setitem(api_app.config, "WECHAT_PUSH_TOKEN", TOKEN)
    monkeypatch.setitem(api_app.config, "WECHAT_PUSH_AES_KEY", AES_KEY)
    return ApiClient(api_app)


def test_depth_is_measured_without_parsing():
    assert json_too_deep(DEEP)
    assert json_too_deep('{"a":' * 40 + "1" + "}" * 40)
    assert not json_too_deep("[" * 32 + "]" * 32)
    assert not json_too_deep(json.dumps({"text": "[" * 5000, "list": [[1], [2]]}))  # brackets inside strings
    assert not json_too_deep(json.dumps(['\\"[[[[' * 100]))


def test_depth_check_stays_linear_on_an_unterminated_string_of_escaped_quotes(api):
    """Review (issue 10): the string-skipping regex failed from every quote of an unterminated string, so 40 brackets
    and 60,000 escaped quotes held a worker for about 40 s (a 1 MB body: minutes), before any authentication."""
    body = b"[" * 40 + b'"' + b'\\"' * 60_000
    started = time.perf_counter()
    assert json_too_deep(body)  # the brackets before the string still count
    assert not json_too_deep(b'"' + b'\\"' * 60_000 + b"[" * 40)  # inside an unterminated string they do not
    assert time.perf_counter() - started < 2
    _error(api.call("POST", "/v1/auth/login", data=body, content_type="application/json"), 400, "request.malformed")


def test_json_problems_name_every_field():
    found = json_problems({"a": "x\x00", "b": [{"c": "\x7f"}], "ok": "tab\tnew\nline\r", "n": 2**64, "s": "9" * 25})
    assert found == {"a": "不能包含控制字符", "b.0.c": "不能包含控制字符", "n": "数值超出范围", "s": "数值超出范围"}


@pytest.mark.parametrize("url", ["/v1/auth/login", "/v1/auth/refresh", "/v1/me", "/v1/travels"])
def test_deep_json_is_400_everywhere_even_unauthenticated(api, url):
    method = "PATCH" if url == "/v1/me" else "POST"
    _error(api.call(method, url, data=DEEP, content_type="application/json"), 400, "request.malformed")


def test_deep_json_to_the_portal_is_400(portal_app, world):
    client = PortalClient(portal_app).client
    assert client.post("/login", data=DEEP, content_type="application/json").status_code == 400


def test_nul_in_patch_me_is_422_naming_the_field_and_not_stored(veteran_api):
    before = veteran_api.get("/v1/me").get_json()["address"]
    error = _error(veteran_api.call("PATCH", "/v1/me", json={"address": "青山\x00路"}), 422, "request.invalid")
    assert error["details"] == {"address": "不能包含控制字符"}
    assert "address" in error["message"]
    assert veteran_api.get("/v1/me").get_json()["address"] == before


def test_control_characters_in_query_and_unicode_escapes(veteran_api):
    _error(veteran_api.get("/v1/inbox?cursor=%01"), 422, "request.invalid")
    body = '{"address": "\\ud800"}'  # a lone surrogate: no database encoding can store it
    error = _error(
        veteran_api.call("PATCH", "/v1/me", data=body, content_type="application/json"), 422, "request.invalid"
    )
    assert error["details"] == {"address": "不能包含控制字符"}


def test_integers_beyond_64_bits_are_422(veteran_api, portal_app, world):
    _error(veteran_api.call("POST", "/v1/travels", json={"destination": 2**70}), 422, "request.invalid")
    client = PortalClient(portal_app)
    client.login(world.staff_x)
    response = client.get("/veterans/?unit=" + "9" * 30)
    assert response.status_code == 422
    assert "unit" in response.get_data(as_text=True)


def test_portal_login_with_nul_is_422_naming_the_field(portal_app, world):
    response = PortalClient(portal_app).client.post("/login", data={"username": "a\x00b", "password": "x"})
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert "username" in text and "控制字符" in text


def test_options_is_204_with_allow_before_authentication(api):
    response = api.call("OPTIONS", "/v1/me")
    assert response.status_code == 204
    assert {"GET", "PATCH", "OPTIONS"} <= {m.strip() for m in response.headers["Allow"].split(",")}
    assert api.call("OPTIONS", "/v1/travels/1/cancel").status_code == 204
    assert api.call("OPTIONS", "/v1/nope").status_code == 404


def test_wrong_content_type_is_415(veteran_api):
    response = veteran_api.call("PATCH", "/v1/me", data='{"address": "x"}', content_type="text/plain")
    assert _error(response, 415, "request.unsupported_media_type")["message"] == "请以 JSON 格式提交"
    response = veteran_api.call("POST", "/v1/registrations/current/attachments", json={"section": "employment"})
    _error(response, 415, "request.unsupported_media_type")
    assert veteran_api.call("PATCH", "/v1/me", json={"address": "青山路2号"}).status_code == 200


def test_range_and_length_messages_are_chinese(veteran_api):
    error = _error(veteran_api.get("/v1/inbox?limit=0"), 422, "request.invalid")
    assert error["details"] == {"limit": "应在 1 到 100 之间"}
    error = _error(veteran_api.call("PATCH", "/v1/me", json={"address": "长" * 201}), 422, "request.invalid")
    assert error["details"] == {"address": "最多 200 个字"}


@pytest.mark.parametrize(
    "field, value",
    [
        (ma.fields.Integer(validate=ma.validate.Range(min=1)), 0),
        (ma.fields.Integer(validate=ma.validate.Range(max=5, max_inclusive=False)), 9),
        (ma.fields.Integer(validate=ma.validate.Range(min=1, max=3, min_inclusive=False)), 9),
        (ma.fields.String(validate=ma.validate.Length(min=3)), "a"),
        (ma.fields.String(validate=ma.validate.Length(equal=3)), "a"),
        (ma.fields.String(validate=ma.validate.OneOf(["a"])), "b"),
        (ma.fields.String(validate=ma.validate.Equal("a")), "b"),
        (ma.fields.String(validate=ma.validate.Regexp("a")), "b"),
        (ma.fields.String(validate=ma.validate.Email()), "b"),
        (ma.fields.String(validate=ma.validate.URL()), "b"),
        (ma.fields.List(ma.fields.String(), validate=ma.validate.ContainsOnly(["a"])), ["b"]),
        (ma.fields.String(validate=ma.validate.NoneOf(["a"])), "a"),
        (ma.fields.UUID(), "b"),
        (ma.fields.Float(allow_nan=False), "nan"),
        (ma.fields.DateTime(), "b"),
        (ma.fields.Time(), "b"),
        (ma.fields.Dict(), 1),
        (ma.fields.Nested(ma.Schema.from_dict({"a": ma.fields.String()})), 1),
    ],
)
def test_every_marshmallow_message_is_translated(field, value):
    schema = ma.Schema.from_dict({"f": field})()
    messages = schema.validate({"f": value})["f"]
    text = _translate(messages)
    assert text and all("\u4e00" <= ch <= "\u9fff" or not ch.isascii() or ch.isdigit() or ch in " -" for ch in text)


def _push_query(ts=None, nonce="12345", **extra):
    ts = ts or str(int(time.time()))
    query = f"signature={sign(TOKEN, ts, nonce)}&timestamp={ts}&nonce={nonce}"
    return query + "".join(f"&{k}={v}" for k, v in extra.items())


def _events():
    return db.session.scalars(select(WechatEvent)).all()


def test_deep_push_is_400_outer_and_decrypted(push):
    _error(push.post(f"/v1/wechat/events?{_push_query()}", data=DEEP), 400, "request.malformed")
    ts, nonce = str(int(time.time())), "67890"
    parsed = xmltodict.parse(WeChatCrypto(TOKEN, AES_KEY, APPID).encrypt_message(DEEP, nonce, ts))["xml"]
    query = _push_query(ts, nonce, encrypt_type="aes", msg_signature=parsed["MsgSignature"])
    body = json.dumps({"ToUserName": "gh_1", "Encrypt": parsed["Encrypt"]})
    _error(push.post(f"/v1/wechat/events?{query}", data=body), 400, "request.malformed")
    assert _events() == []


@pytest.mark.parametrize(
    "event",
    [
        {"FromUserName": "o" * 500, "Event": "subscribe_msg_popup_event", "CreateTime": 1},
        {"FromUserName": "o-1", "Event": "e" * 500, "CreateTime": 1},
        {"FromUserName": "o-1", "Event": ["subscribe_msg_popup_event"], "CreateTime": 1},
        {"FromUserName": {"a": 1}, "Event": "subscribe_msg_popup_event", "CreateTime": 1},
        {"FromUserName": "o-1", "Event": "x", "CreateTime": [1]},
    ],
)
def test_push_fields_of_wrong_type_or_length_are_acknowledged_and_ignored(push, event):
    response = push.post(f"/v1/wechat/events?{_push_query()}", data=json.dumps(event), expect=200)
    assert response.get_data(as_text=True) == "success"
    assert _events() == []


def test_safe_mode_envelope_with_a_non_string_encrypt_is_acknowledged(push):
    query = _push_query(encrypt_type="aes", msg_signature="0" * 40)
    response = push.post(f"/v1/wechat/events?{query}", data=json.dumps({"Encrypt": ["x"]}), expect=200)
    assert response.get_data(as_text=True) == "success"


def test_json_that_is_not_utf8_is_400(api, portal_app):
    """UTF-16 could hide brackets from the byte-level depth scan; JSON between systems is UTF-8 anyway."""
    body = ("[" * 1000 + "]" * 1000).encode("utf-16")
    _error(api.post("/v1/auth/login", data=body, content_type="application/json"), 400, "request.malformed")
    assert PortalClient(portal_app).client.post("/login", data=body, content_type="application/json").status_code == 400


def test_multipart_part_without_a_name_never_gives_500(veteran_api):
    """Found by schemathesis: a multipart part with no name reaches the form as a None key."""
    boundary = "eba451662875ea3beb313bd61ab29af8"
    body = f"--{boundary}\r\nContent-Disposition: form-data\r\n\r\n-949\r\n--{boundary}--\r\n".encode()
    response = veteran_api.call(
        "POST",
        "/v1/registrations/current/attachments",
        data=body,
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    assert 400 <= response.status_code < 500


def test_multipart_part_without_a_name_with_an_idempotency_key_never_gives_500(veteran_api):
    """Review (issue 10): hashing the form for Idempotency-Key sorted a None name against str names (TypeError)."""
    boundary = "eba451662875ea3beb313bd61ab29af8"
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="section"\r\n\r\nemployment\r\n'
        f"--{boundary}\r\nContent-Disposition: form-data\r\n\r\n-949\r\n--{boundary}--\r\n"
    ).encode()
    response = veteran_api.call(
        "POST",
        "/v1/registrations/current/attachments",
        data=body,
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}", "Idempotency-Key": "nameless-1"},
    )
    assert 400 <= response.status_code < 500
