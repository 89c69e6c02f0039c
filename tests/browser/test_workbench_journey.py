"""Workbench journey in a real browser (issue 11, workbench slice): the to-do count equals the list it opens, and
the workbench and a figures page draw their ECharts chart (a canvas) with the table kept beside it."""

from datetime import UTC, datetime, timedelta

import pytest

from tests.browser.test_portal_journeys import login
from tests.factories import build_world, create_veteran
from tests.helpers import refresh_figures

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def desk(live):
    from backend.db import transaction
    from backend.extensions import db
    from backend.registration.models import Registration
    from backend.registration.windows import today_cst
    from tests.registration.helpers import FULL

    _, app = live
    with app.app_context():
        world = build_world()
        with transaction():
            for days, status in ((9, "submitted"), (2, "submitted"), (0, "approved"), (0, "returned")):
                veteran = create_veteran(station=world.x1)
                db.session.add(
                    Registration(
                        veteran_id=veteran.id,
                        unit_id=veteran.unit_id,
                        year=today_cst().year,
                        status=status,
                        content=FULL,
                        return_reasons={},
                        submitted_at=datetime.now(UTC) - timedelta(days=days) if status == "submitted" else None,
                        first_submitted_at=datetime.now(UTC) - timedelta(days=days),
                    )
                )
        create_veteran(station=world.y1)  # a sibling's veteran: never in staff_x's figures
        refresh_figures()  # aggregates slice (issue 12): the chart and the figures table read the rollup
        return {"staff": world.staff_x.username, "x": world.x.name, "y1": world.y1.name}


def test_workbench_counts_open_their_list_and_charts_draw(live, desk, page):
    base, _ = live
    problems = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    login(page, base, desk["staff"])
    assert page.get_by_test_id("todo-waiting-value").inner_text() == "2"
    assert page.get_by_test_id("todo-oldest-value").inner_text() == "9 天"
    page.get_by_test_id("chart-progress").locator("canvas").wait_for()

    page.get_by_test_id("todo-waiting").click()
    assert page.get_by_test_id("queue").locator("tbody a[href^='/registration/']").count() == 2

    page.get_by_role("link", name="确认进度").click()
    page.get_by_test_id("figures-chart").locator("canvas").wait_for()
    assert page.get_by_test_id("figures-chart").get_attribute("aria-hidden") == "true"
    table = page.get_by_test_id("figures").inner_text()
    assert f"{desk['x']}（合计）" in table and desk["y1"] not in table
    assert not problems, problems
