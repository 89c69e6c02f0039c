"""Review journey in a real browser: a reviewer returns a submission with a reason, the veteran corrects and
resubmits, the reviewer approves it."""

import pytest
from playwright.sync_api import expect

from tests.browser.test_portal_journeys import login
from tests.factories import build_world, create_veteran, unique

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def submission(live):
    from backend.registration import service
    from tests.registration.helpers import FULL, account_for

    _, app = live
    with app.app_context():
        world = build_world()
        veteran = create_veteran(station=world.x1, name=unique("待审老兵"))
        reg = service.enter_onsite(actor=world.staff_x, veteran_id=veteran.id, content=FULL, submit_now=True)
        return {
            "reviewer": world.staff_x.username,
            "name": veteran.name,
            "reg_id": reg.id,
            "account_id": account_for(veteran).id,
        }


def test_return_then_approve_after_resubmission(live, submission, page):
    base, app = live
    login(page, base, submission["reviewer"])
    page.get_by_role("link", name="年度确认", exact=True).click()
    page.get_by_test_id("queue").get_by_role("link", name=submission["name"]).click()
    assert page.get_by_test_id("reg-status").inner_text() == "待审核"
    page.get_by_label("就业情况").fill("请填写现工作单位全称")
    page.get_by_role("button", name="退回补正").click()
    page.get_by_role("dialog").get_by_role("button", name="确认退回").click()  # confirm slice (issue 11)
    expect(page.get_by_test_id("reg-status")).to_have_text("退回补正")
    assert "已退回补正" in page.content()
    assert page.get_by_test_id("reg-status").inner_text() == "退回补正"

    from backend.accounts.models import WechatAccount
    from backend.extensions import db
    from backend.registration import service

    with app.app_context():  # the veteran corrects the returned section on the phone and resubmits
        account = db.session.get(WechatAccount, submission["account_id"])
        service.save_draft(
            account=account, content={"employment": {"status": "employed", "employer": "青山机械有限公司"}}
        )
        service.submit(account=account)

    page.reload()
    assert page.get_by_test_id("reg-status").inner_text() == "待审核"
    assert "有变化" in page.content() or "青山机械有限公司" in page.content()
    page.get_by_role("button", name="审核通过").click()
    page.get_by_role("dialog").get_by_role("button", name="确认通过").click()  # confirm slice (issue 11)
    expect(page.get_by_test_id("reg-status")).to_have_text("已通过")
    assert page.get_by_test_id("reg-status").inner_text() == "已通过"
    page.screenshot(path="/tmp/review-approved.png", full_page=True)
