"""The watchdog: stuck deliveries requeued, in-doubt sends resolved from WeChat's sent events or released, lost
fan-outs restarted; scheduled notifications started when due."""

from datetime import timedelta

import pytest

from backend.db import transaction
from backend.extensions import db
from backend.notifications import delivery as pipeline
from backend.notifications import watchdog
from backend.wechat import client as wechat_client
from tests.factories import create_veteran
from tests.notifications.helpers import (
    bind,
    care,
    credits,
    deliver,
    deliveries,
    grant,
    notification,
    push_sent_events,
    staff_notification,
)


class Killed(BaseException):
    """SIGKILL between two lines: nothing after it runs."""


def _watch():
    batches, restarted = [], []
    counts = watchdog.watchdog(batch=lambda *a: batches.append(a), deliver=restarted.append)
    results = [pipeline.deliver_batch(*b) for b in batches]
    return counts, results, restarted


def _kill_during_send(monkeypatch, *, reached_wechat):
    real = wechat_client.send_subscribe_message

    def send(**kwargs):
        if reached_wechat:
            real(**kwargs)
        raise Killed()

    monkeypatch.setattr(wechat_client, "send_subscribe_message", send)


def test_queued_deliveries_nobody_works_on_are_requeued_after_the_stuck_timeout(world, fake_wechat, clock, app):
    vets = [create_veteran(station=world.x1) for _ in range(2)]
    for v in vets:
        grant(fake_wechat, bind(v))
    nid = care(vets)  # the kick was lost: no task ever ran
    with transaction():
        for d in deliveries(nid):
            d.updated_at = clock["now"]
    assert _watch()[1] == []
    clock["now"] += timedelta(seconds=app.config["NOTIFY_STUCK_SECONDS"])
    assert _watch()[1] == [{"sent": 2}]
    assert notification(nid).status == "done" and len(fake_wechat.sent) == 2


def test_in_doubt_send_is_resolved_by_the_sent_event(world, fake_wechat, clock, monkeypatch):
    v = create_veteran(station=world.x1)
    openid = bind(v)
    grant(fake_wechat, openid)
    nid = care([v])
    _kill_during_send(monkeypatch, reached_wechat=True)
    with pytest.raises(Killed):
        deliver(nid)
    assert deliveries(nid)[0].status == "sending" and credits(openid) == 0
    assert push_sent_events(fake_wechat) == 1  # WeChat's push: a MsgID we never recorded
    d = deliveries(nid)[0]
    assert (d.status, d.result, d.msgid) == ("sent", "success", str(fake_wechat.sent[0]["msgid"]))
    clock["now"] += timedelta(days=1)
    counts, results, _ = _watch()
    assert counts["in_doubt"] == 0 and counts["finished"] == 1 and results == []
    assert len(fake_wechat.sent) == 1 and credits(openid) == 0


def test_in_doubt_send_without_an_event_is_released_and_sent_once(world, fake_wechat, clock, monkeypatch, app):
    v = create_veteran(station=world.x1)
    openid = bind(v)
    grant(fake_wechat, openid)
    nid = care([v])
    with monkeypatch.context() as m:
        _kill_during_send(m, reached_wechat=False)
        with pytest.raises(Killed):
            deliver(nid)
    assert _watch()[0]["in_doubt"] == 0  # a live worker may still be waiting for WeChat
    clock["now"] += timedelta(seconds=app.config["NOTIFY_IN_DOUBT_SECONDS"])
    counts, results, _ = _watch()
    assert counts["in_doubt"] == 1 and results == [{"sent": 1}]
    assert len(fake_wechat.sent) == 1 and credits(openid) == 0 and deliveries(nid)[0].attempts == 2


def test_a_late_sent_event_after_the_release_still_counts_once(world, fake_wechat, clock, monkeypatch, app):
    v = create_veteran(station=world.x1)
    openid = bind(v)
    grant(fake_wechat, openid, count=2)
    nid = care([v])
    with monkeypatch.context() as m:
        _kill_during_send(m, reached_wechat=True)
        with pytest.raises(Killed):
            deliver(nid)
    clock["now"] += timedelta(seconds=app.config["NOTIFY_IN_DOUBT_SECONDS"])
    assert watchdog.release_in_doubt(clock["now"]) == 1
    assert deliveries(nid)[0].status == "queued" and credits(openid) == 2  # refunded, as if never sent
    push_sent_events(fake_wechat)  # the event was only late
    d = deliveries(nid)[0]
    assert d.status == "sent" and credits(openid) == 1
    assert deliver(nid) == {} and len(fake_wechat.sent) == 1


def test_a_fan_out_that_never_ran_is_restarted(world, fake_wechat, clock, app):
    v = create_veteran(station=world.x1)
    nid = staff_notification(world, [v])
    with transaction():
        notification(nid).updated_at = clock["now"]
    assert _watch()[2] == []
    clock["now"] += timedelta(seconds=app.config["NOTIFY_STUCK_SECONDS"] + 1)
    assert _watch()[2] == [nid]


def test_start_due_starts_scheduled_notifications_once(world, clock):
    due, later = staff_notification(world, []), staff_notification(world, [])
    with transaction():
        for nid, at in ((due, clock["now"] - timedelta(minutes=1)), (later, clock["now"] + timedelta(hours=1))):
            n = notification(nid)
            n.status, n.scheduled_at, n.started_at = "scheduled", at, None
    started = []
    assert watchdog.start_due(deliver=started.append) == 1 and started == [due]
    assert notification(due).status == "sending" and notification(due).started_at == clock["now"]
    assert notification(later).status == "scheduled"
    assert watchdog.start_due(deliver=started.append) == 0 and started == [due]


def test_sent_event_failure_is_recorded_as_the_result(world, fake_wechat):
    from backend.subscriptions.service import handle_event

    v = create_veteran(station=world.x1)
    openid = bind(v)
    grant(fake_wechat, openid)
    nid = care([v])
    deliver(nid)
    event = fake_wechat.drain_events()[0]
    event["List"].update(ErrorCode="10005", ErrorStatus="fail")
    handle_event(event)
    d = deliveries(nid)[0]
    assert (d.status, d.result, d.result_code) == ("sent", "fail", 10005) and d.result_at
    db.session.expire_all()


def test_rows_waiting_behind_a_moving_fan_out_are_not_requeued(world, fake_wechat, clock, app):
    vets = [create_veteran(station=world.x1) for _ in range(3)]
    for v in vets:
        grant(fake_wechat, bind(v))
    nid = care(vets)
    rows = deliveries(nid)
    old = clock["now"] - timedelta(seconds=app.config["NOTIFY_STUCK_SECONDS"] + 60)
    with transaction():
        for d in rows:
            d.updated_at = old
        rows[0].status, rows[0].updated_at = "sent", clock["now"]  # a worker is sending this notification now
    assert _watch()[1] == []  # the other two wait in the broker: not stuck
    clock["now"] += timedelta(seconds=app.config["NOTIFY_STUCK_SECONDS"] + 1)
    assert _watch()[1] == [{"sent": 2}]  # no progress for the whole timeout: requeued
