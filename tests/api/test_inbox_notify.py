"""The phone's inbox and subscriptions with notifications (issue 13): sender unit and kind label, opening a message
marks it read, and GET /subscriptions says which kinds need a re-subscribe prompt."""

import pytest
from sqlalchemy import update

from backend.extensions import db
from backend.inbox import service as inbox_service
from backend.notifications import templates_admin
from backend.notifications.events import notify
from backend.subscriptions.models import SubscriptionCredit
from tests.api.helpers import bound_client, login
from tests.factories import create_veteran


@pytest.fixture
def pair(api_app, fake_wechat, world):
    a = create_veteran(station=world.x1)
    b = create_veteran(station=world.y1)
    return bound_client(api_app, fake_wechat, a), a, bound_client(api_app, fake_wechat, b), b


def _entry(client, message_id):
    return next(m for m in client.get("/v1/inbox", expect=200).get_json()["items"] if m["id"] == message_id)


def test_inbox_items_carry_the_sender_unit_and_the_kind_label(pair, world):
    client, veteran, _, _ = pair
    care = notify("care", [veteran.id], title="中秋慰问", body="祝您节日快乐", sender_unit_id=world.x.id)
    system = inbox_service.post_message(veteran_id=veteran.id, kind="system", title="系统通知", body="x")
    care_id = db.session.scalar(
        db.select(inbox_service.InboxMessage.id).where(inbox_service.InboxMessage.notification_id == care.id)
    )
    item = _entry(client, care_id)
    assert item["sender_unit"] == world.x.name and item["kind_label"] == "关爱通知" and item["kind"] == "care"
    item = _entry(client, system.id)
    assert item["sender_unit"] is None and item["kind_label"] == "系统通知"


def test_opening_a_message_marks_it_read(pair, world):
    client, veteran, _, _ = pair
    message = inbox_service.post_message(
        veteran_id=veteran.id, kind="registration.returned", title="退回补正", body="请补充", sender_unit_id=world.x1.id
    )
    assert client.get("/v1/inbox/unread-count").get_json() == {"unread": 1}
    opened = client.get(f"/v1/inbox/{message.id}", expect=200).get_json()
    assert opened["id"] == message.id and opened["read_at"] and opened["body"] == "请补充"
    assert opened["sender_unit"] == world.x1.name and opened["kind_label"] == "年度确认退回补正"
    assert client.get("/v1/inbox/unread-count").get_json() == {"unread": 0}
    again = client.get(f"/v1/inbox/{message.id}", expect=200).get_json()
    assert again["read_at"] == opened["read_at"]  # opening again changes nothing
    assert client.post(f"/v1/inbox/{message.id}/read", expect=200).get_json() == again


def test_someone_elses_message_is_404_and_stays_unread(pair):
    client, _, other_client, other = pair
    message = inbox_service.post_message(veteran_id=other.id, kind="system", title="别人的", body="x")
    body = client.get(f"/v1/inbox/{message.id}", expect=404).get_json()
    assert body["error"]["code"] == "inbox.not_found"
    assert client.get("/v1/inbox/999999999", expect=404).get_json()["error"]["code"] == "inbox.not_found"
    assert other_client.get("/v1/inbox/unread-count").get_json() == {"unread": 1}


def _status(client):
    return client.get("/v1/subscriptions", expect=200).get_json()


def _item(status, template_id):
    return next(i for i in status["items"] if i["template_id"] == template_id)


def test_subscriptions_say_which_kinds_need_a_resubscribe(api_app, fake_wechat):
    client = login(api_app, fake_wechat, "o-resub")
    status = _status(client)
    registration = _item(status, "TPL_REGISTRATION")
    assert {k["key"] for k in registration["kinds"]} == {
        "registration.approved",
        "registration.returned",
        "registration.opening",
        "registration.closing",
        "registration.talk",
    }
    assert {"key": "care", "label": "关爱通知"} in _item(status, "TPL_CARE")["kinds"]
    assert all(i["needs_resubscribe"] for i in status["items"])
    assert status["resubscribe"] == [i["template_id"] for i in status["items"]][:3]  # in order, one tap's worth

    reported = client.post("/v1/subscriptions", json={"results": {"TPL_CARE": "accept"}}, expect=200).get_json()
    assert _item(reported, "TPL_CARE") == {**_item(reported, "TPL_CARE"), "credits": 1, "needs_resubscribe": False}
    assert "TPL_CARE" not in reported["resubscribe"] and len(reported["resubscribe"]) == 3

    db.session.execute(
        update(SubscriptionCredit).where(SubscriptionCredit.openid == "o-resub").values(refused=True)
    )  # the veteran turned the template off in WeChat's settings
    care = _item(_status(client), "TPL_CARE")
    assert care["credits"] == 1 and care["can_push"] is False and care["needs_resubscribe"] is True


def test_a_long_term_template_needs_a_grant(api_app, fake_wechat, world):
    templates_admin.create_version(
        actor=world.sys_admin,
        key="travel_overdue",
        wechat_template_id="TPL_TRAVEL_LT",
        long_term=True,
        page="pages/travel/index",
        fields=[{"key": "thing1", "label": "提醒事项", "value": "{标题}"}],
    )
    client = login(api_app, fake_wechat, "o-long")
    status = _status(client)
    assert "TPL_TRAVEL" not in {i["template_id"] for i in status["items"]}  # GET /subscriptions follows the version
    travel = _item(status, "TPL_TRAVEL_LT")
    assert travel["long_term"] is True and travel["needs_resubscribe"] is True
    assert travel["kinds"] == [{"key": "travel.overdue", "label": "出境逾期未归提醒"}]
    client.post("/v1/subscriptions", json={"results": {"TPL_TRAVEL_LT": "accept"}}, expect=200)
    travel = _item(_status(client), "TPL_TRAVEL_LT")
    assert travel["can_push"] is True and travel["needs_resubscribe"] is False
