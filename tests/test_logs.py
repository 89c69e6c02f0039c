"""Log lines: personal data redacted, control characters escaped, request id attached."""

import logging

import pytest

from backend.logs import RequestIdFilter, SafeFormatter, redact, reset_request_context, set_request_context

pytestmark = pytest.mark.no_db


def test_redact_masks_id_numbers_mobiles_and_tokens():
    line = redact("id 11010519491231002X phone 13800138000 +8613900139000 jwt eyJa.eyJb.sig")
    assert "11010519491231002X" not in line and "13800138000" not in line and "13900139000" not in line
    assert "eyJa.eyJb.sig" not in line
    assert "[ID]" in line and "[MOBILE]" in line and "[TOKEN]" in line


def test_redact_escapes_control_characters():
    assert redact("a\nb\rc\x1bd") == "a\\nb\\rc\\x1bd"


def test_formatter_adds_request_id_and_redacts():
    record = logging.LogRecord("t", logging.INFO, __file__, 1, "user %s", ("13800138000",), None)
    tokens = set_request_context("abc123")
    try:
        RequestIdFilter().filter(record)
    finally:
        reset_request_context(tokens)
    out = SafeFormatter("[%(request_id)s] %(message)s").format(record)
    assert out == "[abc123] user [MOBILE]"
