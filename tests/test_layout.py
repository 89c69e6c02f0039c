"""Layout rules checked in CI: no CDN assets, every queue has a worker, modules under the size ceiling,
no commits outside transaction()."""

import re
from pathlib import Path

import pytest

from config.settings import QueueNames

pytestmark = pytest.mark.no_db
ROOT = Path(__file__).resolve().parent.parent
CODE_DIRS = ("backend", "miniprogram_api", "admin_portal", "config", "tests")


def _files(pattern, dirs=CODE_DIRS):
    for d in dirs:
        yield from (ROOT / d).rglob(pattern)


def test_portal_loads_nothing_from_the_internet():
    offenders = [
        str(p.relative_to(ROOT))
        for p in _files("*.html", ("admin_portal",))
        if re.search(r"""(src|href)=["']https?://""", p.read_text(encoding="utf-8"))
    ]
    assert offenders == []


def test_every_queue_has_a_worker():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    match = re.search(r"celery -A backend\.worker worker[^\n]*-Q ([\w,]+)", readme)
    assert match, "README must document the worker command with -Q"
    assert set(match.group(1).split(",")) == set(QueueNames.all())


def test_modules_stay_under_400_lines():
    big = {str(p.relative_to(ROOT)): n for p in _files("*.py") if (n := len(p.read_text().splitlines())) > 400}
    assert big == {}


def test_only_services_commit():
    offenders = [
        str(p.relative_to(ROOT))
        for p in _files("*.py", ("miniprogram_api", "admin_portal"))
        if "session.commit(" in p.read_text(encoding="utf-8")
    ]
    assert offenders == []


def test_only_backend_wechat_imports_wechatpy():
    offenders = [
        str(p.relative_to(ROOT))
        for p in _files("*.py", ("backend", "miniprogram_api", "admin_portal"))
        if re.search(r"^\s*(import|from) wechatpy", p.read_text(encoding="utf-8"), re.M)
        and "backend/wechat" not in str(p)
    ]
    assert offenders == []
