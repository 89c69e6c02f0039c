"""S34: no send without a credit, skips recorded, 43101 / refused never retried, 45009 pauses until midnight CST;
retries with backoff on -1, 45011 and timeouts."""

from datetime import UTC, datetime, timedelta

import pytest

from backend.db import transaction
from backend.extensions import db
from backend.notifications import delivery as pipeline
from backend.notifications import watchdog
from backend.subscriptions.models import SubscriptionCredit
from backend.wechat import client as wechat_client
from backend.wechat.errors import WechatUnavailable
from tests.factories import create_veteran
from tests.notifications.helpers import bind, care, credits, deliver, deliveries, grant, notification


def _run_watchdog():
    batches = []
    watchdog.watchdog(batch=lambda *a: batches.append(a), deliver=lambda nid: None)
    return [pipeline.deliver_batch(*b) for b in batches]


def test_no_send_without_a_credit_and_every_skip_is_recorded(world, fake_wechat):
    unbound, no_credit, refused, ok = (create_veteran(station=world.x1) for _ in range(4))
    o_none, o_refused, o_ok = bind(no_credit), bind(refused), bind(ok)
    grant(fake_wechat, o_ok)
    with transaction():
        db.session.add(SubscriptionCredit(openid=o_refused, template_id="TPL_CARE", credits=0, refused=True))
    fake_wechat.credits[(o_none, "TPL_CARE")] = 5  # WeChat would take it; our ledger says no credit: no call
    nid = care([unbound, no_credit, refused, ok])
    assert deliver(nid) == {"not_bound": 1, "refused": 1, "no_credit": 1, "sent": 1}
    reasons = {d.veteran_id: d.skip_reason for d in deliveries(nid)}
    assert reasons == {unbound.id: "not_bound", no_credit.id: "no_credit", refused.id: "refused", ok.id: None}
    assert [s["touser"] for s in fake_wechat.sent] == [o_ok]
    assert len(fake_wechat.payloads) == 1  # 0 sends without quota: not even an attempt


def test_a_kind_without_a_wechat_template_reaches_the_inbox_only(world, fake_wechat):
    from backend.notifications.events import notify

    v = create_veteran(station=world.x1)
    grant(fake_wechat, bind(v))
    nid = notify("system", [v.id], title="系统消息", body="x").id
    deliver(nid)
    assert [(d.status, d.skip_reason) for d in deliveries(nid)] == [("skipped", "no_template")]
    assert fake_wechat.payloads == [] and notification(nid).status == "done"


def test_43101_zeroes_and_refuses_the_credit_and_is_not_retried(world, fake_wechat):
    v = create_veteran(station=world.x1)
    openid = bind(v)
    grant(fake_wechat, openid, count=3)
    fake_wechat.credits[(openid, "TPL_CARE")] = 0  # the user turned it off in WeChat; we did not hear of it
    nid = care([v])
    assert deliver(nid) == {"refused": 1}
    d = deliveries(nid)[0]
    assert (d.status, d.error_code, d.attempts) == ("failed", 43101, 1)
    row = db.session.get(SubscriptionCredit, _credit_id(openid), populate_existing=True)
    assert (row.credits, row.refused) == (0, True)
    assert _run_watchdog() == [] and deliveries(nid)[0].status == "failed"
    deliver(second := care([v]))
    assert deliveries(second)[0].skip_reason == "refused" and len(fake_wechat.payloads) == 1


def test_45009_pauses_the_notification_until_midnight_cst(world, fake_wechat, clock):
    vets = [create_veteran(station=world.x1) for _ in range(3)]
    openids = [bind(v) for v in vets]
    for openid in openids:
        grant(fake_wechat, openid)
    fake_wechat.send_failures.append(45009)
    nid = care(vets)
    assert deliver(nid) == {"paused": 1}
    n = notification(nid)
    midnight = datetime(2027, 3, 1, 16, 0, tzinfo=UTC)  # 2027-03-02 00:00 CST
    assert n.status == "sending" and n.paused_until == midnight
    assert {d.status for d in deliveries(nid)} == {"queued"} and all(d.attempts == 0 for d in deliveries(nid))
    assert [credits(o) for o in openids] == [1, 1, 1]  # refunded
    clock["now"] = midnight - timedelta(minutes=1)
    first, last = deliveries(nid)[0].id, deliveries(nid)[-1].id
    assert pipeline.deliver_batch(nid, first, last) == {"paused": 1} and _run_watchdog() == []
    clock["now"] = midnight + timedelta(minutes=1)
    assert _run_watchdog() == [{"sent": 3}]
    assert notification(nid).status == "done" and len(fake_wechat.sent) == 3
    assert [credits(o) for o in openids] == [0, 0, 0]


@pytest.mark.parametrize("errcode", [-1, 45011, None])
def test_busy_errors_and_timeouts_retry_with_backoff_then_fail(world, fake_wechat, clock, app, monkeypatch, errcode):
    monkeypatch.setitem(app.config, "NOTIFY_MAX_ATTEMPTS", 3)
    v = create_veteran(station=world.x1)
    openid = bind(v)
    grant(fake_wechat, openid)
    if errcode is None:  # no connection: WechatUnavailable without an errcode (a ReadTimeout is in doubt instead)

        def timeout(**kwargs):
            raise WechatUnavailable(details={"errcode": None, "errmsg": "ConnectTimeout"})

        monkeypatch.setattr(wechat_client, "send_subscribe_message", timeout)
    else:
        fake_wechat.send_failures.extend([errcode] * 3)
    nid = care([v])
    assert deliver(nid) == {"retry": 1}
    d = deliveries(nid)[0]
    base = app.config["NOTIFY_RETRY_BASE_SECONDS"]
    assert (d.status, d.attempts, d.error_code) == ("queued", 1, errcode)
    assert d.next_attempt_at == clock["now"] + timedelta(seconds=base) and credits(openid) == 1
    assert pipeline.deliver_batch(nid, d.id, d.id) == {}  # not due yet
    clock["now"] += timedelta(seconds=base)
    assert _run_watchdog() == [{"retry": 1}]
    assert deliveries(nid)[0].next_attempt_at == clock["now"] + timedelta(seconds=2 * base)
    clock["now"] += timedelta(seconds=2 * base)
    assert _run_watchdog() == [{"failed": 1}]
    d = deliveries(nid)[0]
    assert (d.status, d.attempts) == ("failed", 3) and credits(openid) == 1  # never taken by WeChat: refunded


def test_a_retry_that_succeeds_spends_one_credit(world, fake_wechat, clock):
    v = create_veteran(station=world.x1)
    openid = bind(v)
    grant(fake_wechat, openid)
    fake_wechat.send_failures.append(-1)
    nid = care([v])
    deliver(nid)
    clock["now"] += timedelta(hours=1)
    assert _run_watchdog() == [{"sent": 1}]
    assert credits(openid) == 0 and len(fake_wechat.sent) == 1 and deliveries(nid)[0].attempts == 2


@pytest.mark.parametrize("consumes", [False, True])
def test_other_errors_fail_and_refund_unless_configured(world, fake_wechat, app, monkeypatch, consumes):
    monkeypatch.setitem(app.config, "NOTIFY_FAILED_SEND_CONSUMES", consumes)
    v = create_veteran(station=world.x1)
    openid = bind(v)
    grant(fake_wechat, openid)
    fake_wechat.send_failures.append(47003)
    nid = care([v])
    assert deliver(nid) == {"failed": 1}
    d = deliveries(nid)[0]
    assert (d.status, d.error_code) == ("failed", 47003) and "argument invalid" in d.error_message
    assert credits(openid) == (0 if consumes else 1) and notification(nid).status == "done"


def _credit_id(openid):
    from sqlalchemy import select

    return db.session.scalar(select(SubscriptionCredit.id).where(SubscriptionCredit.openid == openid))
