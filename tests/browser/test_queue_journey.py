"""The review queue in a real browser (issue 11, lists slice): 全选本页 from the keyboard, then next and previous."""

import pytest
from playwright.sync_api import expect

from tests.browser.test_portal_journeys import login
from tests.factories import build_world, create_veteran, unique

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def queue(live):
    from datetime import UTC, datetime, timedelta

    from backend.db import transaction
    from backend.extensions import db
    from backend.registration.models import Registration
    from backend.registration.windows import today_cst
    from tests.registration.helpers import FULL

    _, app = live
    with app.app_context():
        world = build_world()
        names = []
        with transaction():
            for i in range(4):
                veteran = create_veteran(station=world.x1, name=unique(f"排队{i}号"))
                names.append(veteran.name)
                at = datetime(2026, 1, 5, tzinfo=UTC) + timedelta(minutes=i)
                db.session.add(
                    Registration(
                        veteran_id=veteran.id,
                        unit_id=veteran.unit_id,
                        year=today_cst().year,
                        status="submitted",
                        content=FULL,
                        return_reasons={},
                        submitted_at=at,
                        first_submitted_at=at,
                    )
                )
        return {"reviewer": world.staff_x.username, "names": names}


def test_select_all_from_the_keyboard_and_page_both_ways(live, queue, page, monkeypatch):
    from backend.registration import queries

    monkeypatch.setattr(queries, "QUEUE_PAGE", 3)
    base, _ = live
    login(page, base, queue["reviewer"])
    page.goto(f"{base}/registration/")
    rows = page.get_by_test_id("queue").locator("tbody input[name=item]")
    expect(rows).to_have_count(3)
    select_all = page.get_by_label("全选本页")
    select_all.focus()
    page.keyboard.press("Space")
    for i in range(3):
        expect(rows.nth(i)).to_be_checked()
    expect(page.locator("[data-selected-count]")).to_have_text("已选 3 条")
    rows.nth(1).uncheck()
    assert select_all.evaluate("box => box.indeterminate") is True
    page.get_by_role("link", name="下一页").click()
    expect(page.get_by_test_id("queue").get_by_role("link", name=queue["names"][3])).to_be_visible()
    expect(rows).to_have_count(1)
    page.get_by_role("link", name="上一页").click()
    expect(rows).to_have_count(3)
    expect(page.get_by_test_id("queue").get_by_role("link", name=queue["names"][0])).to_be_visible()
