"""Hostile-input guards run by both apps before any view (issue #10): JSON nesting depth, control characters,
integers beyond 64 bits, OPTIONS.

JSON nested a thousand levels deep exhausts the parser's recursion, so the depth is measured on the raw bytes before
anything parses them (400). NUL and the other C0 control characters (tab, newline and carriage return excepted), DEL
and lone surrogates are refused in every text a request carries - query string, form, file names, JSON strings and
keys - and so are integers no BIGINT can hold (422 naming the fields), so none reaches the database. OPTIONS is
answered 204 with `Allow` before authentication. The pure checks are also used where bodies arrive outside Flask's
parsers (WeChat pushes, decrypted in backend/wechat/push.py).
"""

import json
import re

from flask import current_app, request

from backend.errors import MalformedRequest, ValidationFailed

MAX_JSON_DEPTH = 32
INT64 = 2**63
BIG_INTEGER = re.compile(r"\s*[+-]?\d{19,}\s*")  # 19 digits or more may not fit a BIGINT; checked exactly below
CONTROL_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
CONTROL_MESSAGE = "不能包含控制字符"
RANGE_MESSAGE = "数值超出范围"
# A string runs to its closing quote or, unterminated, to the end: a regex that could fail from every quote would be
# quadratic (a body of many escaped quotes took minutes), so this one always matches once it starts.
_JSON_STRINGS = re.compile(rb'"[^"\\]*(?:\\.?[^"\\]*)*(?:"|\Z)', re.S)
_NOT_BRACKETS = re.compile(rb"[^\[\]{}]")
_OPENERS = frozenset(b"[{")


def json_too_deep(raw, limit=MAX_JSON_DEPTH):
    """Whether a JSON text nests arrays/objects deeper than `limit`, judged without parsing it (brackets inside
    strings do not count). Linear in the size of the text."""
    if isinstance(raw, str):
        raw = raw.encode("utf-8", "surrogatepass")
    if raw.count(b"[") + raw.count(b"{") <= limit:
        return False
    depth = 0
    for byte in _NOT_BRACKETS.sub(b"", _JSON_STRINGS.sub(b"", raw)):
        depth = depth + 1 if byte in _OPENERS else depth - 1
        if depth > limit:
            return True
    return False


def check_json_depth(raw, limit=MAX_JSON_DEPTH):
    """:raises MalformedRequest: when `raw` nests deeper than `limit`."""
    if json_too_deep(raw, limit):
        raise MalformedRequest(details={"body": f"嵌套层级不能超过{limit}层"})


def has_control_chars(value):
    return isinstance(value, str) and CONTROL_CHARS.search(value) is not None


def _field_name(name):
    return CONTROL_CHARS.sub("?", str(name))[:64]


def _too_big(value):
    """An integer (or an all-digit form/query value) that no BIGINT column or Python->SQL conversion can take."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return not -INT64 <= value < INT64
    if not isinstance(value, str) or BIG_INTEGER.fullmatch(value) is None:
        return False
    digits = value.strip().lstrip("+-").lstrip("0")
    return len(digits) > 19 or not -INT64 <= int(value) < INT64  # int() refuses 4,300+ digits: never reach it


def _problem(value, *, numbers=True):
    if has_control_chars(value):
        return CONTROL_MESSAGE
    if numbers and _too_big(value):
        return RANGE_MESSAGE
    return None


def json_problems(data, prefix=""):
    """{dotted name: message} for every string or key holding a control character and every integer beyond 64 bits
    in a parsed JSON value."""
    found = {}
    if isinstance(data, dict):
        for key, value in data.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            if has_control_chars(key):
                found[_field_name(name)] = CONTROL_MESSAGE
            else:
                found.update(json_problems(value, name))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            found.update(json_problems(value, f"{prefix}.{index}" if prefix else str(index)))
    elif isinstance(data, int | str) and (message := _problem(data)):
        found[_field_name(prefix or "body")] = message
    return found


def _multidict_problems(multidict):
    """Query and form values. All-digit values beyond 64 bits are refused too (every `type=int` reads them), except
    in passwords, which are opaque."""
    found = {}
    for key, values in multidict.lists():
        key = key if isinstance(key, str) else ""  # a multipart part without a name
        numbers = "password" not in key
        message = _problem(key) or next(filter(None, (_problem(v, numbers=numbers) for v in values)), None)
        if message:
            found[_field_name(key)] = message
    return found


def _request_json():
    """The JSON body parsed once here, so no later parser meets a body that breaks it in an unexpected way (a
    5,000-digit number raises a plain ValueError, which webargs does not expect). :raises MalformedRequest:"""
    raw = request.get_data(cache=True)
    if not raw.strip():
        return None
    try:
        return json.loads(raw)
    except ValueError:  # includes JSONDecodeError and UnicodeDecodeError
        raise MalformedRequest(details={"body": "请求体不是有效的 JSON"}) from None


def check_request():
    """before_request: refuse deep JSON (400), and control characters or 64-bit overflows anywhere in the request
    (422 naming the fields)."""
    if request.is_json:
        raw = request.get_data(cache=True)
        try:  # JSON between systems is UTF-8 (RFC 8259); in UTF-8 no byte of a multibyte character is a bracket
            raw.decode("utf-8")
        except UnicodeDecodeError:
            raise MalformedRequest(details={"body": "请求体应为 UTF-8 编码的 JSON"}) from None
        check_json_depth(raw, current_app.config.get("JSON_MAX_DEPTH", MAX_JSON_DEPTH))
    found = _multidict_problems(request.args)
    if request.mimetype in ("multipart/form-data", "application/x-www-form-urlencoded"):
        found.update(_multidict_problems(request.form))
        for key, upload in request.files.items(multi=True):
            if has_control_chars(upload.filename):
                found[_field_name(key)] = CONTROL_MESSAGE
    if request.is_json:
        found.update(json_problems(_request_json()))
    if found:
        problems = "；".join(dict.fromkeys(found.values()))
        raise ValidationFailed(f"“{'、'.join(found)}”{problems}，请修改后重新提交", details=found)


def answer_options():
    """before_request: OPTIONS on any route is answered here, before authentication, with the methods it allows."""
    if request.method == "OPTIONS" and request.url_rule is not None:
        response = current_app.make_default_options_response()
        response.status_code = 204
        response.set_data(b"")
        del response.headers["Content-Type"]
        return response
    return None


def install_input_guards(app, body_check=None):
    """Register the guards; call after every other app-level before_request that changes body limits.

    :param body_check: an app's own before_request run between OPTIONS and the content checks (the API's 415).
    """
    app.before_request(answer_options)
    if body_check is not None:
        app.before_request(body_check)
    app.before_request(check_request)
