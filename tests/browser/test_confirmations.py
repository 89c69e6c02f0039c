"""confirm slice (issue 11): an action that cannot be undone asks first, in a dialog that names the object and the
consequence; cancel (button or Esc) changes nothing, confirm does it; a bulk action states the count of checked rows."""

from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.test_portal_journeys import login
from tests.factories import build_world, create_veteran, unique

pytestmark = pytest.mark.browser
AXE = Path(__file__).resolve().parents[2] / "admin_portal/static/vendor/axe-core/axe-4.14.1.min.js"


@pytest.fixture(scope="module")
def queue(live):
    """Three submissions waiting at station X1 of a fresh world, and its reviewer."""
    from backend.registration import service
    from tests.registration.helpers import FULL

    _, app = live
    with app.app_context():
        world = build_world()
        regs = []
        for prefix in ("确认老兵", "批量甲", "批量乙"):
            veteran = create_veteran(station=world.x1, name=unique(prefix))
            reg = service.enter_onsite(actor=world.staff_x, veteran_id=veteran.id, content=FULL, submit_now=True)
            regs.append({"id": reg.id, "name": veteran.name, "year": reg.year})
        return {"reviewer": world.staff_x.username, "unit": world.x.id, "regs": regs}


def _status(app, reg_id):
    from backend.extensions import db
    from backend.registration.models import Registration

    with app.app_context():
        status = db.session.get(Registration, reg_id).status
        db.session.remove()
        return status


def _axe_blocking(page):
    """Serious and critical axe-core violations of the page as it is now (the vendored copy, evaluated over the
    DevTools protocol, which the page's CSP does not govern)."""
    if not AXE.is_file():
        pytest.skip("vendored axe-core missing")
    page.evaluate(AXE.read_text(encoding="utf-8") + "\n;0")
    result = page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
    return [(v["id"], v["impact"]) for v in result["violations"] if v["impact"] in ("serious", "critical")]


def test_approve_asks_first_and_cancel_changes_nothing(live, queue, page):
    base, app = live
    reg = queue["regs"][0]
    login(page, base, queue["reviewer"])
    page.goto(f"{base}/registration/{reg['id']}")
    dialog = page.get_by_role("dialog", name="确认审核通过")

    page.get_by_role("button", name="审核通过").click()
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text(f"确认通过 {reg['name']} 的 {reg['year']} 年度确认？通过后将落实相关待遇")
    assert page.evaluate("document.activeElement.closest('dialog') !== null"), "the focus moves into the dialog"
    assert not _axe_blocking(page), "the open dialog passes axe-core (no serious or critical violation)"
    dialog.get_by_role("button", name="取消").click()
    expect(dialog).to_be_hidden()
    expect(page.get_by_test_id("reg-status")).to_have_text("待审核")
    assert _status(app, reg["id"]) == "submitted"

    page.get_by_role("button", name="审核通过").click()
    expect(dialog).to_be_visible()
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    assert _status(app, reg["id"]) == "submitted"

    page.get_by_role("button", name="审核通过").click()
    dialog.get_by_role("button", name="确认通过").click()
    expect(page.get_by_test_id("reg-status")).to_have_text("已通过")
    assert _status(app, reg["id"]) == "approved"


def test_bulk_approve_states_the_count(live, queue, page):
    base, app = live
    first, second = queue["regs"][1], queue["regs"][2]
    login(page, base, queue["reviewer"])
    page.goto(f"{base}/registration/?unit={queue['unit']}")
    dialog = page.get_by_role("dialog", name="确认批量通过")

    page.get_by_role("button", name="批量通过所选").click()  # nothing checked: says so, offers nothing to confirm
    expect(dialog).to_contain_text("请先勾选要通过的登记")
    expect(dialog.get_by_role("button", name="确认通过")).to_be_hidden()
    page.keyboard.press("Escape")

    page.get_by_label(f"选择 {first['name']}").check()
    page.get_by_label(f"选择 {second['name']}").check()
    page.get_by_role("button", name="批量通过所选").click()
    expect(dialog).to_contain_text(f"确认通过所选的 2 条 {first['year']} 年度确认？")
    dialog.get_by_role("button", name="确认通过").click()
    expect(page.get_by_role("alert").filter(has_text="已通过 2 条")).to_be_visible()
    assert {_status(app, first["id"]), _status(app, second["id"])} == {"approved"}
