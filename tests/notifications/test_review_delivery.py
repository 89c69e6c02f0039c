"""Review of issue 13: a send whose answer timed out may have reached WeChat, so it is never resent blindly."""

from datetime import timedelta

import pytest

from backend.notifications import delivery as pipeline
from backend.notifications import watchdog
from backend.wechat import client as wechat_client
from backend.wechat.errors import WechatUnavailable
from tests.factories import create_veteran
from tests.notifications.helpers import bind, care, credits, deliver, deliveries, grant, push_sent_events


def _run_watchdog():
    batches = []
    watchdog.watchdog(batch=lambda *a: batches.append(a), deliver=lambda nid: None)
    return [pipeline.deliver_batch(*b) for b in batches]


@pytest.fixture
def taken_then_timed_out(monkeypatch):
    """WeChat takes the first send, but its answer never arrives (a ReadTimeout); later sends answer normally."""
    real, calls = wechat_client.send_subscribe_message, []

    def send(**kwargs):
        calls.append(kwargs["openid"])
        msgid = real(**kwargs)
        if len(calls) == 1:
            raise WechatUnavailable(details={"errcode": None, "errmsg": "ReadTimeout"})
        return msgid

    monkeypatch.setattr(wechat_client, "send_subscribe_message", send)
    return calls


def test_a_read_timeout_is_in_doubt_and_the_sent_event_settles_it(world, fake_wechat, clock, taken_then_timed_out):
    v = create_veteran(station=world.x1)
    openid = bind(v)
    grant(fake_wechat, openid, count=2)
    nid = care([v])
    assert deliver(nid) == {"in_doubt": 1}
    assert deliveries(nid)[0].status == "sending" and credits(openid) == 1
    clock["now"] += timedelta(minutes=5)  # past any retry backoff: nothing goes out again meanwhile
    assert _run_watchdog() == [] and len(fake_wechat.sent) == 1
    assert push_sent_events(fake_wechat) == 1
    d = deliveries(nid)[0]
    assert (d.status, d.result, d.msgid) == ("sent", "success", str(fake_wechat.sent[0]["msgid"]))
    clock["now"] += timedelta(hours=1)
    assert _run_watchdog() == [] and len(fake_wechat.sent) == 1 and credits(openid) == 1


def test_a_read_timeout_without_a_sent_event_goes_again_after_the_in_doubt_window(
    world, fake_wechat, clock, app, monkeypatch
):
    def timeout(**kwargs):
        raise WechatUnavailable(details={"errcode": None, "errmsg": "ReadTimeout"})

    v = create_veteran(station=world.x1)
    openid = bind(v)
    grant(fake_wechat, openid)
    monkeypatch.setattr(wechat_client, "send_subscribe_message", timeout)
    nid = care([v])
    assert deliver(nid) == {"in_doubt": 1} and credits(openid) == 0
    monkeypatch.undo()
    for module in (pipeline, watchdog):  # undo() dropped the clock too
        monkeypatch.setattr(module, "utcnow", lambda: clock["now"])
    clock["now"] += timedelta(seconds=app.config["NOTIFY_IN_DOUBT_SECONDS"] + 1)
    assert _run_watchdog() == [{"sent": 1}]
    assert deliveries(nid)[0].status == "sent" and len(fake_wechat.sent) == 1 and credits(openid) == 0
