"""WeChat message push: signature checks, safe-mode decryption, JSON/XML parsing with `List` normalised."""

import json
import time
from xml.parsers.expat import ExpatError

import xmltodict
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidAppIdException, InvalidSignatureException
from wechatpy.utils import check_signature

from backend.webguard import check_json_depth, has_control_chars
from backend.wechat.errors import WechatSignatureInvalid

WRAPPERS = {
    "subscribe_msg_popup_event": "SubscribeMsgPopupEvent",
    "subscribe_msg_change_event": "SubscribeMsgChangeEvent",
    "subscribe_msg_sent_event": "SubscribeMsgSentEvent",
}
# Top-level fields read by the service, with the longest value a real push carries (the columns are no shorter).
SCALARS = {"ToUserName": 64, "FromUserName": 64, "Event": 64, "MsgType": 32, "CreateTime": 20}


def verify(token, signature, timestamp, nonce):
    """:raises WechatSignatureInvalid:"""
    try:
        check_signature(token, signature or "", timestamp or "", nonce or "")
    except InvalidSignatureException:
        raise WechatSignatureInvalid() from None


def _parse_text(text):
    text = (text or "").strip()
    if text.startswith("<"):
        try:
            data = xmltodict.parse(text, disable_entities=True).get("xml")
        except ExpatError as exc:
            raise ValueError("malformed XML") from exc
        if not isinstance(data, dict):
            raise ValueError("push body is not an object")
        return data
    check_json_depth(text)  # MalformedRequest (400) before the parser recurses
    data = json.loads(text)
    if not isinstance(data, dict):
        raise ValueError("push body is not an object")
    return data


def check_fields(event):
    """:raises ValueError: when a field the service reads is not a short scalar (a list, an object, 500 characters)."""
    for key, limit in SCALARS.items():
        value = event.get(key)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise ValueError(f"push field {key} has the wrong type")
        if len(str(value)) > limit or has_control_chars(value):
            raise ValueError(f"push field {key} is too long or holds control characters")
    return event


def open_push(*, body, args, token, aes_key, appid, require_aes=False, max_age=None, now=None):
    """Verify and decode one push. Returns the event as a dict.

    :raises WechatSignatureInvalid: on a bad signature.
    :raises MalformedRequest: on JSON nested too deep (outer or decrypted).
    :raises ValueError: on a body that will never parse or fields of the wrong type or length (acknowledged).

    In plain mode the signature covers only token, timestamp and nonce, not the body, so production requires safe
    mode (`require_aes`) and a fresh timestamp (`max_age` seconds) against replays.
    """
    verify(token, args.get("signature"), args.get("timestamp"), args.get("nonce"))
    if require_aes and args.get("encrypt_type") != "aes":
        raise WechatSignatureInvalid()
    if max_age is not None:
        try:
            age = abs((now or time.time()) - int(args.get("timestamp", "")))
        except ValueError:
            raise WechatSignatureInvalid() from None
        if age > max_age:
            raise WechatSignatureInvalid()
    envelope = _parse_text(body)
    if args.get("encrypt_type") == "aes":
        if not aes_key or "Encrypt" not in envelope:
            raise WechatSignatureInvalid()
        if not isinstance(envelope["Encrypt"], str):
            raise ValueError("Encrypt is not a string")
        try:
            plain = WeChatCrypto(token, aes_key, appid).decrypt_message(
                {"Encrypt": envelope["Encrypt"]},
                args.get("msg_signature", ""),
                args.get("timestamp", ""),
                args.get("nonce", ""),
            )
        except (InvalidSignatureException, InvalidAppIdException):
            raise WechatSignatureInvalid() from None
        envelope = _parse_text(plain)
    return check_fields(envelope)


def event_items(event):
    """The `List` of a subscribe event as a list of dicts, wherever and however it arrives."""
    items = event.get("List")
    wrapper = event.get(WRAPPERS.get(event.get("Event"), ""), None)
    if items is None and isinstance(wrapper, dict):
        items = wrapper.get("List")
    if items is None:
        return []
    items = items if isinstance(items, list) else [items]
    return [i for i in items if isinstance(i, dict)]


def as_str(value):
    return None if value is None else str(value)
