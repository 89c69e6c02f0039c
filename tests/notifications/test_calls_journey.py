"""notifications slice (issue 13): the call list in a real browser — reveal the number of one task, record an
outcome through the confirmation dialog, and the task leaves the list; then tag the veteran on their page.
Screenshots go to $SCREENSHOT_DIR if set.

The live server here runs on a database of its own (not tests/browser's), so this module can run in the same session
as tests/browser without resetting the database under that package's server."""

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from werkzeug.middleware.dispatcher import DispatcherMiddleware
from werkzeug.serving import make_server

from tests import conftest as base
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.browser.test_portal_journeys import login
from tests.factories import build_world, create_veteran

pytestmark = pytest.mark.browser


def _database_url():
    url = base.test_database_url()
    if url.startswith("sqlite"):
        return base._sqlite_url("browser_calls.db")
    parsed = make_url(url)
    name = f"{parsed.database}_calls_browser"
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if not conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).scalar():
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return parsed.set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="module")
def live():
    """(base_url, backend_app) of a live server with CSRF on (as tests/browser/conftest.py, own database)."""
    if not os.path.exists(CHROMIUM):
        if os.environ.get("REQUIRE_BROWSER"):
            pytest.fail(f"{CHROMIUM} is missing")
        pytest.skip(f"{CHROMIUM} not installed")
    from admin_portal import create_app as create_portal
    from backend import create_app as create_backend
    from miniprogram_api import create_app as create_api

    config = base.make_config(base.migrate_database(_database_url()), WTF_CSRF_ENABLED=True)
    portal, api, backend = create_portal(config), create_api(config), create_backend(config)
    server = make_server("127.0.0.1", 0, DispatcherMiddleware(portal, {"/api": api}), threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}", backend
    server.shutdown()
    server.server_close()
    base.dispose_engines(portal, api, backend)


@contextmanager
def _page():
    """A browser page of its own. Playwright's sync API runs on a thread of its own here: tests/browser keeps its sync
    Playwright open on the main thread for the whole session, and a second one cannot start on that thread."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        context = browser.new_context(locale="zh-CN")
        local = ("127.0.0.1", "localhost")
        context.route("**/*", lambda r: r.continue_() if urlsplit(r.request.url).hostname in local else r.abort())
        yield context.new_page()
        browser.close()


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
    with ThreadPoolExecutor(1) as pool:
        pool.submit(_journey, live[0], calls_data).result()


def _journey(base, calls_data):
    with _page() as page:
        _steps(page, base, calls_data)


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
