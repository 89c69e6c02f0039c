"""The error table: every class's code is registered, documented, and maps to its status."""

import re
from pathlib import Path

import pytest

from backend import errors

pytestmark = pytest.mark.no_db


def _all_error_classes():
    import backend.orgs.scope
    import backend.orgs.service
    import backend.staff.service  # noqa: F401
    import backend.staff.totp  # noqa: F401  (staffsec slice)

    seen, todo = set(), [errors.AppError]
    while todo:
        cls = todo.pop()
        for sub in cls.__subclasses__():
            if sub not in seen:
                seen.add(sub)
                todo.append(sub)
    return seen


def test_every_error_class_code_is_registered_with_its_status():
    for cls in _all_error_classes():
        assert cls.code in errors.CODES, cls
        assert errors.CODES[cls.code] == cls.status, cls


def test_codes_are_dotted_and_documented():
    doc = (Path(__file__).resolve().parent.parent / "docs" / "error-codes.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"`([a-z_]+\.[a-z_]+)`", doc))
    for code in errors.CODES:
        assert re.fullmatch(r"[a-z_]+\.[a-z_]+", code)
        assert code in documented, f"{code} missing from docs/error-codes.md"


def test_unregistered_code_is_refused():
    with pytest.raises(ValueError):
        errors.AppError(code="made.up")


def test_messages_are_chinese():
    for cls in _all_error_classes():
        assert re.search(r"[\u4e00-\u9fff]", cls.message), cls
