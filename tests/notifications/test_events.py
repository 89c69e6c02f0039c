"""System events take the delivery path: every event message has a delivery record, reaches the inbox at once, and
WeChat where the veteran holds a credit for the event's template (the credit is spent)."""

from datetime import UTC, datetime

import pytest
from freezegun import freeze_time
from sqlalchemy import select

from backend.extensions import db
from backend.inbox.models import InboxMessage
from backend.notifications.models import Delivery, Notification
from backend.registration import jobs, review, service
from tests.factories import create_veteran
from tests.notifications.helpers import bind, credits, deliver, grant
from tests.registration.helpers import FULL, account_for

IN_WINDOW = "2027-02-01 02:00:00"


@pytest.fixture
def submitted(world):
    with freeze_time(IN_WINDOW):
        veteran = create_veteran(station=world.x1)
        account = account_for(veteran)
        service.save_draft(account=account, content=FULL)
        yield veteran, account, service.submit(account=account)


def _only(kicked):
    assert len(kicked) == 1
    return db.session.get(Notification, kicked.pop())


def test_a_returned_registration_with_a_credit_is_pushed_and_spends_it(world, submitted, kicked, fake_wechat):
    veteran, account, reg = submitted
    grant(fake_wechat, account.openid, "TPL_REGISTRATION")
    kicked.clear()
    review.return_for_correction(
        actor=world.staff_x, registration_id=reg.id, expected_version=reg.version_id, reasons={"employment": "请补全"}
    )
    notification = _only(kicked)
    assert notification.kind == "registration.returned" and notification.sender_unit_id == world.x.id
    inbox = db.session.scalars(select(InboxMessage).where(InboxMessage.veteran_id == veteran.id)).one()
    assert inbox.notification_id == notification.id and "请补全" in inbox.body  # in the inbox before any send
    deliver(notification.id)
    delivery = db.session.scalars(select(Delivery).where(Delivery.notification_id == notification.id)).one()
    assert delivery.status == "sent" and delivery.msgid
    (sent,) = fake_wechat.sent
    assert sent["touser"] == account.openid and sent["template_id"] == "TPL_REGISTRATION"
    assert sent["data"]["phrase2"]["value"] == "需补正" and "请补全" not in str(sent["data"])  # reasons stay inside
    assert credits(account.openid, "TPL_REGISTRATION") == 0


def test_approval_and_talk_without_a_credit_reach_the_inbox_only(world, submitted, kicked, fake_wechat):
    veteran, account, reg = submitted
    review.approve(actor=world.staff_x, registration_id=reg.id, expected_version=reg.version_id)
    review.flag_concern(
        actor=world.staff_x,
        registration_id=reg.id,
        concern="情绪波动",
        scheduled_at=datetime(2027, 2, 10, 2, tzinfo=UTC),
        place="青山镇服务站",
    )
    for notification_id in kicked:
        deliver(notification_id)
    rows = db.session.execute(
        select(Notification.kind, Delivery.status, Delivery.skip_reason)
        .join(Delivery, Delivery.notification_id == Notification.id)
        .where(Delivery.veteran_id == veteran.id)
        .order_by(Delivery.id)
    ).all()
    assert rows == [
        ("registration.approved", "skipped", "no_credit"),
        ("registration.talk", "skipped", "no_credit"),
    ]
    assert fake_wechat.sent == []


def test_reminders_and_overdue_trips_have_delivery_records(world, kicked):
    veterans = [create_veteran(station=world.x1) for _ in range(3)]
    with freeze_time("2027-01-02 01:00:00"):
        assert jobs.send_reminders() >= 3
    ids = {v.id for v in veterans}
    rows = db.session.execute(
        select(Delivery.veteran_id, Notification.kind, Notification.variables)
        .join(Notification, Notification.id == Delivery.notification_id)
        .where(Notification.kind == "registration.opening")
    ).all()
    assert ids <= {r.veteran_id for r in rows}
    assert all(r.variables == {"结果": "待办理", "截止日期": "2027年03月31日"} for r in rows)
    unbound = db.session.scalars(select(Delivery).where(Delivery.veteran_id == veterans[0].id)).one()
    deliver(unbound.notification_id)
    db.session.refresh(unbound)
    assert (unbound.status, unbound.skip_reason) == ("skipped", "not_bound")


def test_an_unbound_veteran_is_skipped_and_nothing_is_sent(world, kicked, fake_wechat):
    veteran = create_veteran(station=world.x1)
    other = create_veteran(station=world.x1)
    grant(fake_wechat, bind(other), "TPL_TRAVEL")
    from backend.inbox.service import post_messages

    post_messages(
        {"veteran_id": v.id, "kind": "travel.overdue", "title": "请报告返回情况", "body": "…"} for v in (veteran, other)
    )
    deliver(_only(kicked).id)
    statuses = dict(db.session.execute(select(Delivery.veteran_id, Delivery.status)).all())
    assert statuses == {veteran.id: "skipped", other.id: "sent"}
    assert len(fake_wechat.sent) == 1


def test_the_embedded_ticker_runs_the_beat_work_in_an_app_context(app, monkeypatch):
    from backend.notifications import calls, ticker, watchdog

    ran = []
    monkeypatch.setattr(watchdog, "start_due", lambda: ran.append("start_due"))
    monkeypatch.setattr(watchdog, "watchdog", lambda: ran.append("watchdog"))
    monkeypatch.setattr(calls, "build", lambda: ran.append("calls"))
    ticker.tick(app, with_calls=True)
    ticker.tick(app, with_calls=False)
    assert ran == ["start_due", "watchdog", "calls", "start_due", "watchdog"]
