"""Compose-and-send journey in a real browser (issue 13): a center staff member composes a care notification for a
station, previews the counts, the inbox text and the WeChat card, sends it after the confirmation, and sees the
delivery counts once the pipeline has run."""

import pytest
from playwright.sync_api import expect

from tests.browser.test_portal_journeys import login
from tests.factories import build_world, create_veteran, unique

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def senders(live):
    _, app = live
    with app.app_context():
        world = build_world()
        names = [create_veteran(station=world.x1, name=unique("关爱老兵")).name for _ in range(2)]
        return {"sender": world.staff_x.username, "station_id": str(world.x1.id), "names": names}


def test_compose_preview_send_and_see_delivery_counts(live, senders, page, kicked):
    base, app = live
    login(page, base, senders["sender"])
    page.get_by_role("link", name="通知", exact=True).first.click()
    page.get_by_test_id("compose-link").click()
    title = unique("春节慰问")
    page.get_by_label("标题").fill(title)
    page.get_by_label("内容", exact=True).fill("{姓名}同志：{单位}祝您新春快乐！")
    page.get_by_label("单位", exact=True).select_option(value=senders["station_id"])
    page.get_by_test_id("save-draft").click()
    expect(page.get_by_test_id("count-total")).to_have_text("2")
    assert page.get_by_test_id("count-push").inner_text() == "0"
    assert page.get_by_test_id("count-inbox-only").inner_text() == "2"
    assert "祝您新春快乐！" in page.get_by_test_id("inbox-text").inner_text()
    assert "{" not in page.get_by_test_id("inbox-text").inner_text()
    expect(page.get_by_test_id("wechat-card")).to_contain_text(title)
    page.get_by_test_id("send-button").click()
    page.get_by_role("dialog").get_by_role("button", name="确认发送").click()
    expect(page.get_by_test_id("notification-status")).to_have_text("发送中")
    assert len(kicked) == 1

    from backend.notifications.delivery import run_inline

    with app.app_context():
        run_inline(kicked[0])
    page.reload()
    expect(page.get_by_test_id("notification-status")).to_have_text("已完成")
    report = page.get_by_test_id("report-status")
    expect(report.locator('[data-status="skipped"]')).to_have_text("2")  # not bound to WeChat: inbox only
    assert "共 2 人" in report.inner_text()
    page.screenshot(path="/tmp/notify-journey.png", full_page=True)
