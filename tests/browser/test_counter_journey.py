"""bookings slice (issue 14): the counter's check-in by code in a real browser. A station clerk opens 预约窗口 from
the sidebar; the focused field takes what a USB scanner types (the code and Enter); an unknown code is explained;
the booking shows 已签到 and is completed with a note. Screenshots go to $SCREENSHOT_DIR if set.

Like tests/notifications/test_calls_journey.py, the live server runs on a database of its own and Playwright on a
thread of its own, so this module can share a session with tests/browser."""

import os
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from tests.browser import own_live
from tests.browser.test_portal_journeys import login
from tests.factories import build_world, create_veteran

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def live():
    """(base_url, backend_app) of a live server with CSRF on, on a database of its own."""
    yield from own_live.live_server("counter_browser")


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
    own_live.run_in_thread(_steps, live[0], counter_data)


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
