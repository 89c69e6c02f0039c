"""The counter pages (issue 14): the day's list, check-in by code, completion, no-show and cancel forms with their
confirmations, lifting a block from the counter and from the veteran's page, booking on a veteran's behalf."""

from datetime import UTC, datetime, timedelta

import pytest
from freezegun import freeze_time
from sqlalchemy import select

from backend.bookings import blocks, calendar, counter
from backend.bookings.models import Booking, BookingService
from backend.db import transaction, utcnow
from backend.extensions import db
from tests.bookings.test_counter import make_booking, make_service, make_slot
from tests.factories import create_veteran, valid_id_number
from tests.helpers import portal_as

NOW = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)  # Tuesday 10:00 CST


@pytest.fixture(autouse=True)
def frozen():
    with freeze_time(NOW):
        yield


def _soon(world, name="王建华", phone="13912345678", minutes=30):
    """A booking at X1 starting `minutes` after 10:00 CST (negative: already over), and its CST day."""
    starts = NOW + timedelta(minutes=minutes)
    veteran = create_veteran(station=world.x1, name=name, phone=phone)
    booking = make_booking(veteran, make_slot(make_service(world.x1), starts))
    return booking, counter.cst_day(starts)


def test_the_day_lists_bookings_with_masked_phones(portal_app, world):
    booking, day = _soon(world)
    page = portal_as(portal_app, world.target).get(f"/bookings/counter?day={day}", expect=200).text
    assert "王建华" in page and "139****5678" in page and "13912345678" not in page
    assert booking.code in page and "已预约" in page and 'id="check-in-code"' in page
    assert "预约窗口" in page


def test_staff_of_another_county_get_the_not_found_page(portal_app, world):
    portal_as(portal_app, world.staff_y).get(f"/bookings/counter?station={world.x1.id}", expect=404)


def test_check_in_by_code_then_complete(portal_app, world):
    booking, day = _soon(world)
    client = portal_as(portal_app, world.target)
    form = {"station": world.x1.id, "day": day.isoformat(), "code": booking.code.lower() + "\n"}
    response = client.post("/bookings/counter/check-in", data=form, follow_redirects=True)
    assert "签到成功：王建华" in response.text and "已签到" in response.text
    response = client.post(
        f"/bookings/counter/bookings/{booking.id}/complete", data={"note": "已开具证明"}, follow_redirects=True
    )
    assert "已办结：王建华" in response.text
    db.session.expire_all()
    assert db.session.get(Booking, booking.id).status == "completed"


def test_an_unknown_or_repeated_code_is_explained(portal_app, world):
    booking, day = _soon(world)
    client = portal_as(portal_app, world.target)
    form = {"station": world.x1.id, "day": day.isoformat(), "code": "NOPE1234"}
    assert "未找到该预约码" in client.post("/bookings/counter/check-in", data=form, follow_redirects=True).text
    form["code"] = booking.code
    client.post("/bookings/counter/check-in", data=form, expect=302)
    assert "不能进行此操作" in client.post("/bookings/counter/check-in", data=form, follow_redirects=True).text


def test_no_show_and_cancel_ask_first(portal_app, world):
    _soon(world, name="孙爽约", phone="13900000001", minutes=-90)
    _, day = _soon(world, name="钱取消", phone="13900000002", minutes=60)
    page = portal_as(portal_app, world.target).get(f"/bookings/counter?day={day}").text
    assert 'data-confirm-title="确认标记爽约"' in page and "确认将 孙爽约 的预约标记为爽约" in page
    assert "确认取消 钱取消 的预约" in page and 'data-confirm-title="确认取消整个时段"' in page
    assert page.count("标记爽约：") == 1  # only the slot that has ended offers it


def test_no_show_then_cancel_through_the_portal(portal_app, world):
    over, _ = _soon(world, minutes=-60)
    later, _ = _soon(world, name="周末", phone="13900000003", minutes=120)
    client = portal_as(portal_app, world.target)
    assert "已标记爽约" in client.post(f"/bookings/counter/bookings/{over.id}/no-show", follow_redirects=True).text
    text = client.post(
        f"/bookings/counter/bookings/{later.id}/cancel", data={"reason": "停电"}, follow_redirects=True
    ).text
    assert "已取消预约并通知本人" in text and f"服务站取消（{world.target.full_name}）：停电" in text
    assert (
        "请填写取消原因"
        in client.post(
            f"/bookings/counter/slots/{later.slot_id}/cancel", data={"reason": ""}, follow_redirects=True
        ).text
    )


def test_lift_a_block_from_the_veterans_page(portal_app, world):
    veteran = create_veteran(station=world.x1, name="吴限制")
    with transaction():
        db.session.add(
            blocks.BookingBlock(veteran_id=veteran.id, blocked_until=utcnow() + timedelta(days=9), no_shows=3)
        )
    client = portal_as(portal_app, world.target)
    page = client.get(f"/veterans/{veteran.id}").text
    assert "服务预约限制" in page and "因 3 次爽约" in page and 'data-confirm-title="确认解除预约限制"' in page
    response = client.post(f"/bookings/counter/blocks/{veteran.id}/lift", data={"back": "veteran"})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/veterans/{veteran.id}")
    assert blocks.is_blocked(veteran.id) is None
    assert "服务预约限制" not in client.get(f"/veterans/{veteran.id}").text


def test_book_on_a_veterans_behalf_by_id_number(portal_app, world):
    number = valid_id_number()
    veteran = create_veteran(station=world.x1, name="郑代约", id_number=number)
    with transaction():
        service = BookingService(
            station_id=world.x1.id, name="证明开具", plan={str(d): [["09:00", "10:00"]] for d in range(1, 8)}
        )
        db.session.add(service)
    day = datetime(2026, 12, 2).date()  # a Wednesday, a working day
    assert calendar.is_open(day, world.x1.id)
    client = portal_as(portal_app, world.target)
    found = client.post("/bookings/counter/book", data={"station": world.x1.id, "q": number}, expect=200).text
    assert "郑代约" in found and number not in found
    page = client.get(
        f"/bookings/counter/book?station={world.x1.id}&veteran={veteran.id}&service={service.id}&day={day}", expect=200
    ).text
    assert "09:00–09:30" in page
    slot_id = int(page.split('name="slot" id="slot-')[1].split('"')[0])
    response = client.post(
        "/bookings/counter/book", data={"station": world.x1.id, "veteran": veteran.id, "slot": slot_id}
    )
    assert response.status_code == 302
    booking = db.session.scalars(select(Booking).where(Booking.veteran_id == veteran.id)).one()
    assert (booking.channel, booking.created_by_id) == ("counter", world.target.id)
    again = client.post(
        "/bookings/counter/book",
        data={"station": world.x1.id, "veteran": veteran.id, "slot": slot_id},
        follow_redirects=True,
    )
    assert "请勿重复预约" in again.text
