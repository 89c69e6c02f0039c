"""bookings slice (issue 14): the counter's check-in by code in a real browser. A station clerk opens 预约窗口 from
the sidebar; the focused field takes what a USB scanner types (the code and Enter); an unknown code is explained;
the booking shows 已签到 and is completed with a note. Screenshots go to $SCREENSHOT_DIR if set.

Like tests/notifications/test_calls_journey.py, the live server runs on a database of its own and Playwright on a
thread of its own, so this module can share a session with tests/browser."""

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import timedelta
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
        return base._sqlite_url("browser_counter.db")
    parsed = make_url(url)
    name = f"{parsed.database}_counter_browser"
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
    """A page of its own, with Playwright on this (worker) thread: tests/browser keeps its sync Playwright open on the
    main thread for the whole session, and a second one cannot start there."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        context = browser.new_context(locale="zh-CN")
        local = ("127.0.0.1", "localhost")
        context.route("**/*", lambda r: r.continue_() if urlsplit(r.request.url).hostname in local else r.abort())
        yield context.new_page()
        browser.close()


@pytest.fixture(scope="module")
def counter_data(live):
    """A clerk of station X1 and a booking there starting in 30 minutes (check-in is open an hour before)."""
    from backend.bookings import service as booking_service
    from backend.bookings.models import BookingService, Slot
    from backend.db import transaction, utcnow
    from backend.extensions import db

    _, app = live
    with app.app_context():
        world = build_world()
        veteran = create_veteran(station=world.x1, name="陈签到", phone="13955550001")
        starts = utcnow().replace(second=0, microsecond=0) + timedelta(minutes=30)
        with transaction():
            service = BookingService(station_id=world.x1.id, name="证明开具", plan={}, location="一号窗口")
            db.session.add(service)
            db.session.flush()
            slot = Slot(
                service_id=service.id, station_id=world.x1.id, starts_at=starts, ends_at=starts + timedelta(minutes=30)
            )
            db.session.add(slot)
        booking = booking_service.book(veteran_id=veteran.id, slot_id=slot.id)
        return {"clerk": world.target.username, "code": booking.code}


def _shot(tab, name):
    folder = os.environ.get("SCREENSHOT_DIR")
    if folder:
        tab.screenshot(path=os.path.join(folder, f"{name}.png"), full_page=True)


def test_check_in_by_scanning_the_code_then_complete(live, counter_data):
    """A real browser journey (about 3 s: a Chromium start and five page loads)."""
    with ThreadPoolExecutor(1) as pool:
        pool.submit(_journey, live[0], counter_data).result()


def _journey(base_url, data):
    with _page() as page:
        _steps(page, base_url, data)


def _steps(page, base_url, data):
    login(page, base_url, data["clerk"])
    page.get_by_role("link", name="预约窗口").first.click()
    row = page.get_by_test_id(f"booking-{data['code']}")
    expect(row).to_contain_text("陈签到")
    expect(row).to_contain_text("139****0001")
    expect(row).to_contain_text("已预约")
    field = page.get_by_label("预约码（扫描二维码或手工输入）")
    expect(field).to_be_focused()  # the scanner types into the focused field
    field.press_sequentially("WRONG999")
    field.press("Enter")
    expect(page.get_by_text("未找到该预约码")).to_be_visible()
    page.get_by_label("预约码（扫描二维码或手工输入）").press_sequentially(data["code"].lower())
    page.get_by_label("预约码（扫描二维码或手工输入）").press("Enter")
    expect(page.get_by_text("签到成功：陈签到")).to_be_visible()
    expect(row).to_contain_text("已签到")
    _shot(page, "counter")
    row.get_by_label("陈签到 的办理情况").fill("已开具证明")
    row.get_by_role("button", name="办结").click()
    expect(page.get_by_text("已办结：陈签到")).to_be_visible()
    expect(row).to_contain_text("已办结")
    expect(row).to_contain_text("已开具证明")
