"""care slice (issue 16, C3): approving a hardship assistance case in a real browser. A center reviewer opens 帮扶援助
from the sidebar, sees the case, its sealed description and the repeat-help warning, approves it through the
confirmation dialog; above the four-eyes threshold a second reviewer completes the approval.

Like tests/browser/test_counter_journey.py, the live server runs on a database of its own and Playwright on a thread of
its own (tests/browser/own_live.py)."""

import pytest
from playwright.sync_api import expect

from tests.browser import own_live
from tests.browser.test_portal_journeys import login

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def live():
    """(base_url, backend_app) of a live server with CSRF on, on a database of its own."""
    yield from own_live.live_server("assistance_browser")


@pytest.fixture(scope="module")
def cases(live):
    """A recommended case of 8,000 元 (above the threshold: two approvers) for a veteran already helped this year."""
    from tests.assistance.helpers import move_to, new_case, second_approver, veteran_with_account
    from tests.factories import build_world

    _, app = live
    with app.app_context():
        world = build_world()
        veteran, account = veteran_with_account(world)
        move_to(world, new_case(world, account, amount_fen=100_000), "paid")
        case = move_to(world, new_case(world, account, amount_fen=800_000, description="脑梗住院治疗"), "recommended")
        return {
            "first": world.staff_x.username,
            "second": second_approver(world).username,
            "case_id": case.id,
            "name": veteran.name,
        }


def test_two_reviewers_approve_a_case_above_the_threshold(live, cases):
    """A real browser journey (about 4 s: a Chromium start, two logins and six page loads)."""
    own_live.run_in_thread(_steps, live[0], cases)


def _approve(page, data):
    page.get_by_role("button", name="批准", exact=True).click()
    dialog = page.get_by_role("dialog", name="确认批准")
    expect(dialog).to_contain_text(f"确认批准 {data['name']} 的帮扶申请 #{data['case_id']}")
    with page.expect_navigation():
        dialog.get_by_role("button", name="确认批准").click()


def _steps(page, base_url, data):
    login(page, base_url, data["first"])
    page.get_by_role("link", name="帮扶援助").first.click()
    page.get_by_role("link", name=f"#{data['case_id']}").click()
    expect(page.get_by_test_id("case-description")).to_have_text("脑梗住院治疗")
    expect(page.get_by_test_id("recent-help")).to_contain_text("近12个月内已获帮扶 1 次")
    _approve(page, data)
    expect(page.get_by_text("已记录第一审批，须另一位审批人再次审批")).to_be_visible()
    expect(page.get_by_test_id("approve-form")).to_have_count(0)
    page.context.clear_cookies()
    login(page, base_url, data["second"])
    page.goto(f"{base_url}/assistance/{data['case_id']}")
    _approve(page, data)
    expect(page.get_by_text("已批准，已通知本人")).to_be_visible()
    expect(page.get_by_test_id("case-status")).to_have_text("已批准，待发放")
    expect(page.get_by_test_id("timeline")).to_contain_text("第一审批人已同意")
