"""Registry journey in a real browser: list, filter by grid, open a veteran (masked), reveal (audited), and a clerk
of another station does not see the veteran."""

import pytest

from tests.browser.test_portal_journeys import login
from tests.factories import build_world, create_staff, create_veteran, unique

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def registry(live):
    _, app = live
    with app.app_context():
        world = build_world()
        in_grid = create_veteran(station=world.x1, grid=world.x1_grid, name=unique("网格老兵"))
        no_grid = create_veteran(station=world.x1, name=unique("站内老兵"))
        other_clerk = create_staff(unit=world.y1, roles=("station_staff",))
        return {
            "reviewer": world.staff_x.username,
            "auditor": world.auditor.username,
            "other_clerk": other_clerk.username,
            "station": world.x1.name,
            "grid": world.x1_grid.name,
            "in_grid": (in_grid.name, in_grid.id_number, in_grid.id_number_masked),
            "no_grid": no_grid.name,
        }


def test_list_filter_open_reveal_and_scope(live, registry, page):
    base, _ = live
    name, number, masked = registry["in_grid"]
    login(page, base, registry["reviewer"])
    page.get_by_role("link", name="退役军人", exact=True).click()
    page.locator(".unit-tree").get_by_role("link", name=registry["station"]).click()
    table = page.get_by_test_id("veteran-table")
    assert name in table.inner_text() and registry["no_grid"] in table.inner_text()
    page.wait_for_load_state("load")  # the filter's change handler is attached by a script: wait for it under load
    with page.expect_navigation(url="**grid=*"):  # the filter submits itself on change
        page.get_by_label("网格").select_option(label=registry["grid"])
    table = page.get_by_test_id("veteran-table")
    assert name in table.inner_text() and registry["no_grid"] not in table.inner_text()
    assert masked in table.inner_text() and number not in page.content()

    page.get_by_role("link", name=name).click()
    assert page.get_by_test_id("id-number").inner_text() == masked
    page.get_by_role("button", name="查看完整证件号和手机号").click()
    assert page.get_by_test_id("id-number").inner_text() == number
    page.screenshot(path="/tmp/registry-revealed.png", full_page=True)

    page.get_by_role("button", name="退出").click()
    login(page, base, registry["auditor"])
    page.goto(f"{base}/audit/?action=veterans.reveal&actor={registry['reviewer']}")
    assert "查看完整证件号" in page.content() and registry["reviewer"] in page.content()

    page.get_by_role("button", name="退出").click()
    login(page, base, registry["other_clerk"])
    page.goto(f"{base}/veterans/")
    assert name not in page.content() and registry["no_grid"] not in page.content()
