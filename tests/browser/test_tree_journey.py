"""The sidebar's unit tree in a real browser (issue 12): a collapsed unit expands on demand (htmx, orgs.tree), a child
is a link to the page with it selected, and the toggle works from the keyboard."""

import pytest
from playwright.sync_api import expect

from tests.browser.test_accessibility import AXE, _axe
from tests.browser.test_portal_journeys import login
from tests.factories import build_world

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def tree_world(live):
    _, app = live
    with app.app_context():
        world = build_world()
        return {
            "supervisor": world.supervisor_parent.username,
            "x": world.x.name,
            "x1": (world.x1.id, world.x1.name),
            "y": world.y.name,
            "y1": world.y1.name,
        }


def test_expand_a_unit_and_open_a_child(live, tree_world, page):
    base, _ = live
    x1_id, x1_name = tree_world["x1"]
    page.context.add_init_script(path=str(AXE))
    login(page, base, tree_world["supervisor"])
    page.goto(f"{base}/veterans/")
    tree = page.get_by_role("navigation", name="组织机构树")
    toggle = tree.get_by_role("button", name=f"{tree_world['x']}的下级机构")
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(tree.get_by_role("link", name=x1_name)).to_have_count(0)  # not rendered until asked for

    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    child = tree.get_by_role("link", name=x1_name)
    expect(child).to_be_visible()
    assert not _axe(page), _axe(page)  # the expanded fragment too: 0 serious/critical
    with page.expect_navigation():
        child.click()
    assert page.url == f"{base}/veterans/?unit={x1_id}"
    expect(tree.get_by_role("link", name=x1_name)).to_have_attribute("aria-current", "page")

    # On the new page the chain to X1 is rendered; Y is collapsed and opens and closes from the keyboard.
    y_toggle = tree.get_by_role("button", name=f"{tree_world['y']}的下级机构")
    y_toggle.focus()
    page.keyboard.press(" ")
    expect(y_toggle).to_have_attribute("aria-expanded", "true")
    expect(tree.get_by_role("link", name=tree_world["y1"])).to_be_visible()
    page.keyboard.press("Enter")
    expect(y_toggle).to_have_attribute("aria-expanded", "false")
    expect(tree.get_by_role("link", name=tree_world["y1"])).to_be_hidden()
    assert page.url == f"{base}/veterans/?unit={x1_id}"  # the toggle never navigated
