"""Inbox and the subscription ledger through the API."""

import pytest

from backend.inbox import service as inbox_service
from backend.subscriptions import service as subscriptions_service
from tests.api.helpers import bound_client, login
from tests.factories import create_veteran


@pytest.fixture
def pair(api_app, fake_wechat, world):
    a = create_veteran(station=world.x1)
    b = create_veteran(station=world.y1)
    return bound_client(api_app, fake_wechat, a), a, bound_client(api_app, fake_wechat, b), b


def test_inbox_pages_counts_and_marks_read(pair):
    client, veteran, _, _ = pair
    ids = [
        inbox_service.post_message(veteran_id=veteran.id, kind="system", title=f"通知{i}", body="内容").id
        for i in range(5)
    ]
    assert client.get("/v1/inbox/unread-count", expect=200).get_json() == {"unread": 5}
    page1 = client.get("/v1/inbox?limit=3", expect=200).get_json()
    assert [m["id"] for m in page1["items"]] == ids[::-1][:3] and page1["next_cursor"]
    page2 = client.get(f"/v1/inbox?limit=3&cursor={page1['next_cursor']}", expect=200).get_json()
    assert [m["id"] for m in page2["items"]] == ids[::-1][3:] and page2["next_cursor"] is None
    read = client.post(f"/v1/inbox/{ids[0]}/read", expect=200).get_json()
    assert read["read_at"]
    assert client.post(f"/v1/inbox/{ids[0]}/read", expect=200).get_json()["read_at"] == read["read_at"]
    assert client.get("/v1/inbox/unread-count").get_json() == {"unread": 4}


def test_someone_elses_message_is_404(pair):
    client, _, other_client, other = pair
    message = inbox_service.post_message(veteran_id=other.id, kind="system", title="别人的", body="x")
    body = client.post(f"/v1/inbox/{message.id}/read", expect=404).get_json()
    assert body["error"]["code"] == "inbox.not_found"
    client.post("/v1/inbox/999999999/read", expect=404)
    assert all(m["id"] != message.id for m in client.get("/v1/inbox").get_json()["items"])


def test_client_report_and_popup_event_count_once(api_app, fake_wechat):
    client = login(api_app, fake_wechat, "o-ledger")
    status = client.post(
        "/v1/subscriptions",
        json={"results": {"TPL_CARE": "accept", "TPL_BOOKING": "reject", "UNKNOWN": "accept"}},
        expect=200,
    ).get_json()
    care = next(i for i in status["items"] if i["template_id"] == "TPL_CARE")
    assert care == {**care, "credits": 1, "can_push": True}
    subscriptions_service.handle_event(
        {
            "FromUserName": "o-ledger",
            "CreateTime": 1,
            "Event": "subscribe_msg_popup_event",
            "List": {"TemplateId": "TPL_CARE", "SubscribeStatusString": "accept"},
        }
    )
    items = client.get("/v1/subscriptions", expect=200).get_json()["items"]
    assert next(i for i in items if i["template_id"] == "TPL_CARE")["credits"] == 1  # the same tap, counted once
    client.post("/v1/subscriptions", json={"results": {"TPL_CARE": "accept"}}, expect=200)  # a second tap
    items = client.get("/v1/subscriptions").get_json()["items"]
    assert next(i for i in items if i["template_id"] == "TPL_CARE")["credits"] == 2


def test_consume_credit_never_goes_below_zero(api_app, fake_wechat):
    client = login(api_app, fake_wechat, "o-spend")
    client.post("/v1/subscriptions", json={"results": {"TPL_CARE": "accept"}}, expect=200)
    assert subscriptions_service.consume_credit(openid="o-spend", template_id="TPL_CARE") is True
    assert subscriptions_service.consume_credit(openid="o-spend", template_id="TPL_CARE") is False


@pytest.mark.parametrize("body", [{}, {"results": {"TPL_CARE": "maybe"}}, {"results": "x"}, {"results": {}, "x": 1}])
def test_bad_subscription_reports_are_422(api_app, fake_wechat, body):
    login(api_app, fake_wechat, "o-bad").post("/v1/subscriptions", json=body, expect=422)
