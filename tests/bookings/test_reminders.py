"""The day-before reminders (backend/bookings/reminders.py): once per booking, from the reminder hour (CST) of the
previous day, one notification per slot with a delivery and an inbox entry per veteran, and the card's values."""

from datetime import date, datetime

from freezegun import freeze_time
from sqlalchemy import select

from backend.bookings import reminders
from backend.bookings.models import Booking
from backend.extensions import db
from backend.inbox.models import InboxMessage
from backend.notifications.models import Delivery, Notification
from backend.registration.windows import CST
from tests.authz.booking_figures_cells import cst, make_booking, make_service, make_slot
from tests.factories import create_veteran
from tests.notifications.helpers import bind, deliver, grant

TODAY = date(2026, 11, 30)  # a Monday
TOMORROW = date(2026, 12, 1)


def at(hhmm, day=TODAY):
    return cst(day, hhmm)


def _notifications():
    return db.session.scalars(
        select(Notification).where(Notification.kind == "booking.reminder").order_by(Notification.id)
    ).all()


def _reminded(booking):
    return db.session.scalar(
        select(Booking.reminded_at).where(Booking.id == booking.id).execution_options(populate_existing=True)
    )


def _tomorrow_slot(world, hhmm="09:30", **kw):
    service = kw.pop("service", None) or make_service(world.x1, name="证明开具", materials="身份证\n退役证")
    return make_slot(service, cst(TOMORROW, hhmm), **kw)


def test_before_the_reminder_hour_nothing_is_sent(world):
    booking = make_booking(_tomorrow_slot(world), create_veteran(station=world.x1))
    assert reminders.send_due(now=at("08:59")) == {"reminded": 0, "notifications": 0}
    assert _reminded(booking) is None and _notifications() == []


def test_after_the_hour_each_booking_is_reminded_once_and_a_rerun_sends_nothing(world, kicked):
    slot = _tomorrow_slot(world)
    veterans = [create_veteran(station=world.x1) for _ in range(2)]
    bookings = [make_booking(slot, v) for v in veterans]
    kicked.clear()
    assert reminders.send_due(now=at("09:00")) == {"reminded": 2, "notifications": 1}
    assert all(_reminded(b) == at("09:00") for b in bookings)
    (notification,) = _notifications()
    assert kicked == [notification.id]  # the WeChat part starts after the commit
    assert reminders.send_due(now=at("09:15")) == {"reminded": 0, "notifications": 0}
    assert reminders.send_due(now=at("23:59")) == {"reminded": 0, "notifications": 0}
    assert len(_notifications()) == 1


def test_one_notification_per_slot_with_a_delivery_and_an_inbox_entry_per_veteran(world):
    service = make_service(world.x1, name="证明开具")
    morning, afternoon = _tomorrow_slot(world, service=service), _tomorrow_slot(world, "14:00", service=service)
    a, b, c = (create_veteran(station=world.x1) for _ in range(3))
    make_booking(morning, a), make_booking(morning, b), make_booking(afternoon, c)
    assert reminders.send_due(now=at("10:00")) == {"reminded": 3, "notifications": 2}
    first, second = _notifications()
    deliveries = db.session.scalars(select(Delivery.veteran_id).where(Delivery.notification_id == first.id)).all()
    assert sorted(deliveries) == sorted([a.id, b.id])
    assert first.variables == {"预约时间": "2026年12月01日 09:30", "服务站": world.x1.name}
    assert second.variables["预约时间"] == "2026年12月01日 14:00"
    assert first.sender_unit_id == world.x1.id and first.link == "pages/bookings/index"
    inbox = db.session.scalars(select(InboxMessage).where(InboxMessage.veteran_id == c.id)).one()
    assert inbox.title == "预约服务提醒" and inbox.notification_id == second.id
    assert "证明开具" in inbox.body and "2026年12月01日 14:00" in inbox.body and world.x1.name in inbox.body
    assert "请携带：身份证、退役证" in inbox.body and "一楼综合服务窗口" in inbox.body


def test_the_text_carries_no_check_in_code(world):
    booking = make_booking(_tomorrow_slot(world), create_veteran(station=world.x1))
    reminders.send_due(now=at("09:00"))
    (notification,) = _notifications()
    assert booking.code not in notification.body and booking.code not in str(notification.variables)


def test_cancelled_today_and_later_bookings_are_not_reminded(world):
    service = make_service(world.x1)
    slot = make_slot(service, cst(TOMORROW))
    cancelled = make_booking(slot, create_veteran(station=world.x1), status="cancelled", cancelled_by="veteran")
    today = make_booking(make_slot(service, at("16:00")), create_veteran(station=world.x1))
    later = make_booking(make_slot(service, cst(date(2026, 12, 2))), create_veteran(station=world.x1))
    after_midnight = make_booking(make_slot(service, cst(date(2026, 12, 2), "00:00")), create_veteran(station=world.x1))
    assert reminders.send_due(now=at("12:00"))["reminded"] == 0
    assert all(_reminded(b) is None for b in (cancelled, today, later, after_midnight))


def test_the_last_minutes_of_tomorrow_cst_count_as_tomorrow(world):
    """23:30 CST tomorrow is 15:30 UTC tomorrow; 00:00 CST the day after is 16:00 UTC tomorrow (excluded above)."""
    booking = make_booking(_tomorrow_slot(world, "23:30"), create_veteran(station=world.x1))
    assert reminders.send_due(now=at("09:00"))["reminded"] == 1 and _reminded(booking) is not None


def test_a_booking_made_after_the_hour_is_reminded_at_the_next_run(world):
    slot = _tomorrow_slot(world)
    make_booking(slot, create_veteran(station=world.x1))
    assert reminders.send_due(now=at("09:00"))["reminded"] == 1
    late = make_booking(slot, create_veteran(station=world.x1))
    assert reminders.send_due(now=at("21:45")) == {"reminded": 1, "notifications": 1}
    assert _reminded(late) == at("21:45")


def test_the_hour_is_china_standard_time_under_frozen_utc(world):
    booking = make_booking(_tomorrow_slot(world), create_veteran(station=world.x1))
    with freeze_time("2026-11-30 00:59:00"):  # 08:59 CST
        assert reminders.send_due()["reminded"] == 0
    with freeze_time("2026-11-30 01:00:00"):  # 09:00 CST
        assert reminders.send_due()["reminded"] == 1
    assert _reminded(booking) == datetime(2026, 11, 30, 9, 0, tzinfo=CST)


def test_the_reminder_hour_is_a_setting(world, app, monkeypatch):
    monkeypatch.setitem(app.config, "BOOKING_REMIND_HOUR_CST", 15)
    make_booking(_tomorrow_slot(world), create_veteran(station=world.x1))
    assert reminders.send_due(now=at("14:59"))["reminded"] == 0
    assert reminders.send_due(now=at("15:00"))["reminded"] == 1


def test_the_wechat_card_carries_the_time_and_the_station(world, fake_wechat):
    veteran = create_veteran(station=world.x1)
    openid = bind(veteran)
    grant(fake_wechat, openid, "TPL_BOOKING")
    make_booking(_tomorrow_slot(world), veteran)
    reminders.send_due(now=at("09:00"))
    (notification,) = _notifications()
    deliver(notification.id)
    (sent,) = fake_wechat.sent
    assert sent["touser"] == openid and sent["template_id"] == "TPL_BOOKING"
    assert sent["page"].startswith("pages/bookings/index")
    data = {key: value["value"] for key, value in sent["data"].items()}
    assert data["thing1"] == "预约服务提醒" and data["thing3"] == world.x1.name
    assert data["time2"].startswith("2026年12月01日")


def test_the_task_runs_the_reminders(world, monkeypatch):
    from backend.bookings.tasks import send_reminders

    calls = []
    monkeypatch.setattr(reminders, "send_due", lambda: calls.append(1) or {"reminded": 0, "notifications": 0})
    assert send_reminders() == {"reminded": 0, "notifications": 0} and calls == [1]
