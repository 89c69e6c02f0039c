"""On-site entry journey in a real browser (issue 11): a clerk adds and removes trip rows, submits without picking
a required choice (the error appears beside it, every input kept), picks it, and the registration comes back with
both trips exactly and the phone on file kept; afterwards it is read-only."""

import re

import pytest

from tests.browser.test_accessibility import _axe, _new_context
from tests.browser.test_portal_journeys import login
from tests.factories import build_world, create_veteran, unique

pytestmark = pytest.mark.browser

PHONE = "13912345678"


@pytest.fixture(scope="module")
def clerk_and_veteran(live):
    _, app = live
    with app.app_context():
        world = build_world()
        veteran = create_veteran(station=world.x1, name=unique("现场老兵"), phone=PHONE)
        return {"clerk": world.staff_x.username, "veteran_id": veteran.id}


@pytest.fixture
def page(browser):
    """A page that may inject the vendored axe-core (CSP bypassed, non-local hosts still refused)."""
    context, foreign = _new_context(browser)
    yield context.new_page()
    context.close()
    assert not foreign, f"the page requested non-local hosts: {foreign}"


def test_onsite_entry_round_trip_with_two_trips_and_a_kept_phone(live, clerk_and_veteran, page):
    base, _ = live
    login(page, base, clerk_and_veteran["clerk"])
    url = f"{base}/registration/onsite/{clerk_and_veteran['veteran_id']}"
    page.goto(url)
    rows = page.locator("[data-trip-row]")
    assert rows.count() == 3
    page.get_by_role("button", name="添加一行").click()  # the script's buttons: add, then remove a row
    assert rows.count() == 4 and page.locator("#trip-3-destination").evaluate("e => e === document.activeElement")
    page.get_by_role("button", name="删除此行（第4行出入境记录）").click()
    assert rows.count() == 3

    page.locator("#trip-0-destination").select_option("日本")
    page.locator("#trip-0-from").fill("2026-05-01")
    page.locator("#trip-0-to").fill("2026-05-10")
    page.locator("#trip-1-destination").select_option("泰国")
    page.locator("#trip-1-from").fill("2026-08-03")
    page.locator("#trip-1-to").fill("2026-08-09")
    page.get_by_label("就业情况").select_option("employed")
    page.get_by_label("工作单位").fill("青山机械厂")
    assert "139****5678" in page.get_by_test_id("phone-on-file").inner_text()
    page.get_by_label("本人已当面确认以上信息真实、准确").check()
    page.get_by_role("button", name="提交审核").click()  # 参加党组织生活 left unpicked

    error = page.locator('[data-error-for="party_participated"]')
    assert error.is_visible() and error.inner_text() == "请选择是或否"
    assert page.locator("#party_participated").get_attribute("aria-describedby") == "party_participated-error"
    assert page.locator("#trip-1-destination").input_value() == "泰国"  # every input kept
    assert page.locator("#trip-0-to").input_value() == "2026-05-10"
    assert page.get_by_label("工作单位").input_value() == "青山机械厂"
    assert page.get_by_label("本人已当面确认以上信息真实、准确").is_checked()
    assert _axe(page) == []  # the form with its errors shown is accessible too

    page.get_by_label("参加", exact=True).check()
    page.get_by_role("button", name="提交审核").click()
    assert page.get_by_test_id("reg-status").inner_text() == "待审核"
    trips = page.locator('[data-section="trips_abroad"] td').first.inner_text()
    assert re.sub(r"\s", "", trips) == "日本（2026-05-01—2026-05-10）；泰国（2026-08-03—2026-08-09）"
    assert "139****5678" in page.locator('[data-section="contact"] td').first.inner_text()

    page.goto(url)  # submitted: read-only, with the way to the review page
    assert page.locator("form[data-testid=onsite-form]").count() == 0
    assert page.get_by_test_id("reg-status").inner_text() == "待审核"
    assert _axe(page) == []
    page.get_by_test_id("review-link").click()
    assert "/registration/" in page.url and "onsite" not in page.url
