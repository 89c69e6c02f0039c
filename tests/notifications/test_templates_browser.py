"""The template edit page in a browser (issue 13): the states the GET-only axe sweep cannot reach (a preview, field
errors) pass axe-core too, and the preview draws the clipped card.

Playwright runs in a thread of its own: tests/browser keeps its sync Playwright open for the whole session, and a
second one cannot start on the same thread."""

from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, live  # noqa: F401  (the live server of tests/browser)
from tests.browser.test_accessibility import _axe, _login, _new_context

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def root_admin(live):  # noqa: F811
    from tests.factories import create_staff, create_unit

    _, app = live
    with app.app_context():
        return create_staff(unit=create_unit(), roles=("sys_admin",)).username


def _check_edit_page(base, username):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        context, foreign = _new_context(browser)
        page = context.new_page()
        report = {"axe": [], "layout": [], "checked": []}
        try:
            _login(page, base, username, "sys_admin", report)
            page.goto(f"{base}/notifications/templates/care/edit")
            page.get_by_role("button", name="预览").click()
            assert "…" in page.get_by_test_id("wx-card").inner_text()  # the long sample title, clipped
            assert page.get_by_test_id("inbox-preview").is_visible()
            problems = _axe(page)
            page.get_by_label("第1个字段的字段名").fill("bad1")
            page.get_by_label("微信模板ID").fill("坏的 ID")
            page.get_by_role("button", name="预览").click()
            assert "字段名须为微信字段类型加序号" in page.content()
            problems += _axe(page)
        finally:
            context.close()
            browser.close()
    return problems + report["axe"], foreign


def test_preview_and_errors_are_accessible(live, root_admin):  # noqa: F811  (live skips without Chromium)
    with ThreadPoolExecutor(1) as pool:
        problems, foreign = pool.submit(_check_edit_page, live[0], root_admin).result()
    assert not problems, problems
    assert not foreign, foreign
