"""care slice (issue 16, C1): recording a contact in a real browser. A station clerk opens 常态化联系 from the
sidebar, finds the overdue veteran, records a home visit on the veteran's page (confirmed in the dialog), sees the new
due date and the history row, and opens the sealed notes (audited). Screenshots go to $SCREENSHOT_DIR if set.

Like tests/browser/test_counter_journey.py, the live server runs on a database of its own and Playwright on a thread
of its own, so this module can share a session with tests/browser."""

import os
from datetime import date, timedelta

import pytest
from playwright.sync_api import expect

from tests.browser import own_live
from tests.browser.test_portal_journeys import login
from tests.factories import build_world, create_veteran

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def live():
    yield from own_live.live_server("contact_browser")


@pytest.fixture(scope="module")
def contact_data(live):
    """A clerk of station X1 and a veteran placed 100 days ago, never contacted (10 days overdue)."""
    from backend.care import plans
    from backend.registration.windows import today_cst

    _, app = live
    with app.app_context():
        world = build_world()
        veteran = create_veteran(station=world.x1, name="郑联系", placement_date=today_cst() - timedelta(days=100))
        plans.ensure_plans()
        return {"clerk": world.target.username, "veteran_id": veteran.id, "today": today_cst()}


def _shot(tab, name):
    folder = os.environ.get("SCREENSHOT_DIR")
    if folder:
        tab.screenshot(path=os.path.join(folder, f"{name}.png"), full_page=True)


def test_record_a_contact(live, contact_data):
    own_live.run_in_thread(_steps, live[0], contact_data)


def _steps(page, base_url, data):
    login(page, base_url, data["clerk"])
    page.get_by_role("link", name="常态化联系").first.click()
    overdue = page.get_by_test_id("overdue-list")
    expect(overdue).to_contain_text("郑联系")
    overdue.get_by_role("link", name="郑联系").click()
    section = page.get_by_test_id("veteran-contacts")
    expect(section).to_contain_text("已逾期 10 天")
    form = page.get_by_test_id("contact-form")
    form.get_by_label("联系方式").select_option("home_visit")
    form.get_by_label("生活情况").fill("老伴住院，家庭开支紧张")
    form.get_by_label("家庭困难").check()
    form.get_by_role("button", name="保存联系记录").click()
    dialog = page.get_by_role("dialog", name="确认保存联系记录")
    expect(dialog).to_contain_text("郑联系")
    dialog.get_by_role("button", name="确认保存").click()
    expect(page.get_by_text("联系记录已保存")).to_be_visible()
    due = data["today"] + timedelta(days=90)
    expect(section.get_by_test_id("contact-plan")).to_contain_text(due.isoformat())
    history = section.get_by_test_id("contact-history")
    expect(history).to_contain_text("上门走访")
    expect(history).to_contain_text("家庭困难")
    expect(history).not_to_contain_text("老伴住院")  # notes stay sealed until asked for
    _shot(page, "contact")
    history.get_by_role("button", name="查看内容").first.click()
    expect(page.get_by_test_id("contact-notes")).to_contain_text("老伴住院，家庭开支紧张")
    assert isinstance(data["today"], date)
