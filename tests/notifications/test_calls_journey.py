"""notifications slice (issue 13): the call list in a real browser — reveal the number of one task, record an
outcome through the confirmation dialog, and the task leaves the list; then tag the veteran on their page.
Screenshots go to $SCREENSHOT_DIR if set.

The live server here runs on a database of its own (not tests/browser's), so this module can run in the same session
as tests/browser without resetting the database under that package's server."""

import os

import pytest
from playwright.sync_api import expect

from tests.browser import own_live
from tests.browser.test_portal_journeys import login
from tests.factories import build_world, create_veteran

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def live():
    """(base_url, backend_app) of a live server with CSRF on, on a database of its own."""
    yield from own_live.live_server("calls_browser")


@pytest.fixture(scope="module")
def calls_data(live):
    from backend.db import utcnow
    from backend.notifications import calls
    from tests.authz.notify_reports_cells import make_notification, set_delivery

    _, app = live
    with app.app_context():
        world = build_world()
        vets = [create_veteran(station=world.x1, name=n, phone=p) for n, p in (("王一", "13911110001"), ("王二", None))]
        notification = make_notification(vets, sender_unit=world.x, title="重阳节慰问")
        for v in vets:
            set_delivery(notification, v, status="skipped", skip_reason="not_bound")
        calls.build(now=utcnow())
        return {"clerk": world.staff_x.username, "notification": notification.id, "veteran": vets[0].id}


def _shot(tab, name):
    folder = os.environ.get("SCREENSHOT_DIR")
    if folder:
        tab.screenshot(path=os.path.join(folder, f"{name}.png"), full_page=True)


def test_reveal_then_record_an_outcome(live, calls_data):
    own_live.run_in_thread(_steps, live[0], calls_data)


def _steps(page, base, calls_data):
    login(page, base, calls_data["clerk"])
    page.get_by_role("link", name="电话联系").first.click()
    table = page.get_by_test_id("call-tasks")
    expect(table).to_contain_text("王一")
    expect(table).to_contain_text("139****0001")
    expect(table).not_to_contain_text("13911110001")
    page.get_by_role("button", name="显示号码：王一").click()
    expect(page.get_by_test_id("phone-revealed")).to_have_text("13911110001")
    _shot(page, "calls")
    row = page.locator("tr", has_text="王一")
    row.get_by_label("王一 的联系结果").select_option("reached")
    row.get_by_label("王一 的联系备注").fill("已电话慰问")
    row.get_by_role("button", name="记录").click()
    dialog = page.get_by_role("dialog", name="确认记录联系结果")
    expect(dialog).to_contain_text("确认记录与 王一 的联系结果")
    dialog.get_by_role("button", name="确认记录").click()
    expect(page.get_by_text("联系结果已记录")).to_be_visible()
    expect(page.get_by_test_id("call-tasks")).not_to_contain_text("王一")
    expect(page.get_by_test_id("call-tasks")).to_contain_text("王二")
    page.goto(f"{base}/notifications/{calls_data['notification']}/recipients")
    expect(page.get_by_test_id("recipients")).to_contain_text("未绑定微信")
    _shot(page, "recipients")
    page.get_by_role("link", name="王一").click()
    expect(page.get_by_test_id("veteran-deliveries")).to_contain_text("重阳节慰问")
    page.get_by_label("修改标签（用逗号或空格分隔，最多10个，每个不超过20字）").fill("高龄，重点关注")
    page.get_by_role("button", name="保存标签").click()
    expect(page.get_by_test_id("veteran-tags")).to_contain_text("重点关注")
    _shot(page, "veteran")
