"""Issue 17, Art. 7: a party member's reception from arrival to close in a real browser. Station staff open the case
from the veteran's page, try check-in first and see the refusal (transfer first), complete the transfer, check-in and
the other steps (recording the police's coordination for 落户), record the welcome ceremony and close the case through
the confirmation dialogs; the veteran's page shows the onboarding date. axe-core runs on every page on the way."""

from datetime import datetime, timedelta

import pytest
from playwright.sync_api import expect

from backend.registration.windows import CST, today_cst
from tests.browser.test_accessibility import _axe, _new_context
from tests.browser.test_portal_journeys import login
from tests.factories import build_world, create_veteran, unique

pytestmark = pytest.mark.browser

PLAIN = ("hukou", "social_insurance", "housing_fund", "reserve", "bank_account", "archive_intake")


@pytest.fixture(scope="module")
def clerk_and_member(live):
    _, app = live
    with app.app_context():
        world = build_world()
        veteran = create_veteran(station=world.x1, name=unique("新兵"), party_member=True)
        return {"clerk": world.staff_x.username, "veteran_id": veteran.id}


@pytest.fixture
def page(browser):
    """A page that may inject the vendored axe-core (non-local hosts refused)."""
    context, foreign = _new_context(browser)
    yield context.new_page()
    context.close()
    assert not foreign, f"the page requested non-local hosts: {foreign}"


def _step_button(page, step, name):
    with page.expect_navigation():
        page.get_by_test_id(f"step-{step}").get_by_role("button", name=name, exact=True).click()


def _confirm(page, button, title, ok):
    page.get_by_role("button", name=button, exact=True).click()
    dialog = page.get_by_role("dialog", name=title)
    with page.expect_navigation():
        dialog.get_by_role("button", name=ok).click()


def test_a_party_members_reception_from_arrival_to_close(live, clerk_and_member, page):
    base, _ = live
    login(page, base, clerk_and_member["clerk"])
    page.goto(f"{base}/veterans/{clerk_and_member['veteran_id']}")
    page.get_by_test_id("veteran-onboarding").get_by_role("link", name="办理接收安置").click()
    assert _axe(page) == []
    with page.expect_navigation():
        page.get_by_role("button", name="建立一站式办理").click()
    expect(page.get_by_text("已建立接收安置一站式办理")).to_be_visible()
    assert _axe(page) == []

    _step_button(page, "check_in", "开始办理")  # Art. 7: transfer first
    expect(page.get_by_text("该退役军人是党员，须先完成党员组织关系转接，再办理报到")).to_be_visible()
    expect(page.get_by_test_id("state-check_in")).to_have_text("待办理")
    _step_button(page, "party_transfer", "标记完成")
    _step_button(page, "check_in", "标记完成")
    expect(page.get_by_test_id("state-check_in")).to_have_text("已完成")

    hukou = page.get_by_test_id("step-hukou")
    hukou.get_by_label("联系部门和人员").fill("青山派出所 李警官")
    hukou.get_by_label("协调结果").fill("材料已齐，户口已迁入")
    with page.expect_navigation():
        hukou.get_by_role("button", name="登记协调").click()
    expect(page.get_by_test_id("coordination-hukou")).to_contain_text("青山派出所 李警官")
    for step in PLAIN:
        _step_button(page, step, "标记完成")

    welcome = page.get_by_test_id("step-welcome_ceremony")
    welcome.get_by_label("仪式时间").fill((datetime.now(CST) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"))
    welcome.get_by_label("地点").fill("青山镇服务站会议室")
    welcome.get_by_label("出席人员").fill("镇党委书记、服务站站长")
    _confirm(page, "登记仪式", "确认登记欢迎仪式", "确认登记")
    expect(page.get_by_test_id("state-welcome_ceremony")).to_have_text("已完成")
    expect(page.get_by_test_id("ceremony")).to_contain_text("青山镇服务站会议室")
    expect(page.get_by_test_id("close-blocked")).to_have_count(0)

    page.get_by_label("办结小结（将显示在退役军人信息页）").fill("各项接收安置手续已办结")
    _confirm(page, "办结", "确认办结", "确认办结")
    expect(page.get_by_test_id("case-status")).to_have_text("已办结")
    assert _axe(page) == []
    page.goto(f"{base}/veterans/{clerk_and_member['veteran_id']}")
    expect(page.get_by_test_id("onboarding-date")).to_have_text(today_cst().isoformat())
    page.goto(f"{base}/onboarding/?status=closed")
    assert _axe(page) == []
