"""Idempotency-Key on every phone write (POST, PUT, PATCH, DELETE of the authenticated blueprints).

install() adds a before_request that claims the key (backend/idempotency/service.py) after the blueprint's auth and
before the view, and an after_request that stores the answer (status, content type, body) for replay, or releases
the claim when the write failed (5xx, 429) so a retry runs it. A repeat with the same key and the same method, path
and body gets the first answer again, with `Idempotent-Replayed: true`; the same key with another request is 422
`request.idempotency_mismatch`; a repeat while the first still runs is 409 `request.idempotency_in_progress` with
`Retry-After: 1` (answered at once, never waited for). Other 4xx answers are stored and replayed like successes: the
same request would be refused the same way; a new attempt after fixing it takes a new key.

The public blueprints are left out: login exchanges a one-time code and refresh rotates a token (replaying either would
keep tokens at rest, and neither makes a record), and WeChat's pushes carry no account and are deduplicated by
their own message ids.
"""

import hashlib
import logging
import re

from apispec import BasePlugin
from flask import current_app, g, request

from backend.errors import ValidationFailed
from backend.extensions import db
from backend.idempotency import service
from miniprogram_api.security import current_account

log = logging.getLogger(__name__)

HEADER = "Idempotency-Key"
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# 1 to 64 visible ASCII characters: a UUID (36) or a sha256 hex (64) fits.
KEY_PATTERN = r"^[\x21-\x7e]{1,64}$"
_KEY = re.compile(KEY_PATTERN)
# Answers that say "try again later" are not kept: the retry must run the write.
RELEASED_STATUSES = frozenset({408, 429})
_FORM_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")


def request_hash(veteran_id):
    """sha256 of the bound veteran, the method, path, query, media type and body. Form bodies hash their fields and
    each file's content, so a retried upload matches although its multipart boundary differs."""
    digest = hashlib.sha256()
    # The veteran the account is bound to: after an unbind and a rebind to someone else, an old key no longer
    # matches, so the first veteran's answer is never replayed to the account.
    digest.update(f"veteran:{veteran_id}\x00".encode())
    for part in (request.method, request.path, request.query_string.decode("latin-1"), request.mimetype):
        digest.update(part.encode() + b"\x00")
    if request.mimetype in _FORM_TYPES:
        # A multipart part may have no name (None): never compare None with a str while sorting.
        for name, value in sorted(request.form.items(multi=True), key=lambda item: (item[0] or "", item[1])):
            digest.update(f"{name}\x00{value}\x00".encode())
        for name, upload in sorted(request.files.items(multi=True), key=lambda item: item[0] or ""):
            digest.update(f"{name}\x00{upload.filename}\x00".encode())
            for chunk in iter(lambda upload=upload: upload.stream.read(65536), b""):
                digest.update(chunk)
            upload.stream.seek(0)
    else:
        digest.update(request.get_data(cache=True))
    return digest.hexdigest()


def claim():
    """before_request: claim the key of a write, or answer a repeat with the stored first answer."""
    if request.method not in WRITE_METHODS or HEADER not in request.headers:
        return None
    key = request.headers[HEADER]
    if not _KEY.match(key):
        raise ValidationFailed(details={HEADER: "幂等键应为1至64个英文字母、数字或符号（不含空格）"})
    try:
        result = service.claim_key(
            account_id=current_account().id, key=key, request_hash=request_hash(current_account().veteran_id)
        )
    except service.IdempotencyInProgress:
        g.idempotency_retry_after = True
        raise
    if isinstance(result, service.Replay):
        response = current_app.response_class(result.body, status=result.status, content_type=result.content_type)
        response.headers["Idempotent-Replayed"] = "true"
        return response
    g.idempotency_claim = result
    return None


def settle(response):
    """after_request: keep the answer for replay, or release the claim when the write failed."""
    if g.pop("idempotency_retry_after", False):
        response.headers["Retry-After"] = "1"
    claim_id = g.pop("idempotency_claim", None)
    if claim_id is None:
        return response
    status = response.status_code
    if status >= 500 or status in RELEASED_STATUSES or response.is_streamed:
        _release(claim_id)
    else:
        service.complete_claim(
            claim_id=claim_id,
            status=status,
            content_type=response.content_type or "application/json",
            body=response.get_data(as_text=True),
        )
    return response


def release_unsettled(exc):
    """teardown_request: a claim that after_request never settled (an exception escaped) is released."""
    claim_id = g.pop("idempotency_claim", None)
    if claim_id is not None:
        _release(claim_id)


def _release(claim_id):
    db.session.rollback()  # a failed write may have left the session unusable; its work was never committed
    try:
        service.release_claim(claim_id=claim_id)
    except Exception:  # the claim then expires after its lock time; never hide the original answer
        log.exception("could not release an idempotency claim")


def install(app, blueprint_name):
    """Honour Idempotency-Key on the writes of one blueprint; call after its auth is installed."""
    app.before_request_funcs.setdefault(blueprint_name, []).append(claim)
    app.after_request_funcs.setdefault(blueprint_name, []).append(settle)
    if release_unsettled not in app.teardown_request_funcs.get(None, []):
        app.teardown_request(release_unsettled)


class IdempotencyDocPlugin(BasePlugin):
    """Documents the Idempotency-Key header and its two refusals on every write of the registered blueprints."""

    def __init__(self):
        self.blueprints = set()

    def init_spec(self, spec):
        super().init_spec(spec)
        description = (
            "可选。1至64个可见ASCII字符（建议UUID）。24小时内以同一幂等键重复提交相同请求，返回首次的结果"
            "（响应头 Idempotent-Replayed: true），不会重复办理；同一幂等键用于不同请求返回422 "
            "request.idempotency_mismatch；首次请求尚在处理时返回409 request.idempotency_in_progress。"
        )
        spec.components.parameter(
            "IdempotencyKey",
            "header",
            {
                "name": HEADER,
                "required": False,
                "description": description,
                "schema": {"type": "string", "minLength": 1, "maxLength": 64, "pattern": KEY_PATTERN},
            },
        )

    def operation_helper(self, path=None, operations=None, **kwargs):
        rule = kwargs.get("rule")
        if rule is None or rule.endpoint.split(".", 1)[0] not in self.blueprints:
            return
        for method, operation in operations.items():
            if method.upper() not in WRITE_METHODS:
                continue
            operation.setdefault("parameters", []).append("IdempotencyKey")
            responses = operation.setdefault("responses", {})
            for status, code in ((422, "request.idempotency_mismatch"), (409, "request.idempotency_in_progress")):
                key = next((k for k in responses if str(k) == str(status)), status)
                entry = responses.setdefault(
                    key,
                    {
                        "description": "错误代码：",
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorEnvelope"}}},
                    },
                )
                if isinstance(entry, dict) and isinstance(entry.get("description"), str):
                    sep = "" if entry["description"].endswith("：") else "、"
                    entry["description"] += sep + code
