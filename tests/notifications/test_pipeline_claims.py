"""Issue 21: a batch claims, spends and records its sends a group at a time (backend/notifications/claims.py), with
the single-row claim's guarantees: idempotent claim, no send twice after a crash between claim and record, in-doubt
rows settled by WeChat's sent events or released by the watchdog."""

from datetime import timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import event

from backend.db import transaction
from backend.extensions import db
from backend.notifications import claims, watchdog
from backend.notifications import delivery as pipeline
from backend.subscriptions.models import SubscriptionCredit
from backend.wechat import client as wechat_client
from tests.factories import create_veteran
from tests.notifications.helpers import bind, care, credits, deliver, deliveries, grant, push_sent_events


class WorkerKilled(BaseException):
    """Stands for a SIGKILL: nothing after it runs in the dying worker (see `killed_at`)."""


def _recipients(world, fake, n):
    vets = [create_veteran(station=world.x1) for _ in range(n)]
    openids = [bind(v) for v in vets]
    for openid in openids:
        grant(fake, openid)
    return vets, openids


def _run_watchdog():
    batches = []
    watchdog.watchdog(batch=lambda *a: batches.append(a), deliver=lambda nid: None)
    return [pipeline.deliver_batch(*b) for b in batches]


def _range(nid):
    rows = deliveries(nid)
    return rows[0].id, rows[-1].id


def test_a_batch_costs_a_few_statements_per_group_not_per_send(world, fake_wechat, app, monkeypatch):
    monkeypatch.setitem(app.config, "NOTIFY_CLAIM_SIZE", 20)
    vets, openids = _recipients(world, fake_wechat, 40)
    nid = care(vets)
    statements = []

    def count(conn, cursor, statement, parameters, context, executemany):
        verb = statement.split(None, 1)[0].upper()
        if verb not in ("SAVEPOINT", "RELEASE"):  # the test's transactions are savepoints; a worker's are commits
            statements.append(verb)

    engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        assert pipeline.deliver_batch(nid, *_range(nid)) == {"sent": 40}
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len(fake_wechat.sent) == 40 and {d.status for d in deliveries(nid)} == {"sent"}
    assert all(credits(o) == 0 for o in openids) and all(d.attempts == 1 and d.msgid for d in deliveries(nid))
    # Per group: claim + credits (2) and one executemany of the records (3); per batch: the notification, its
    # template, skips, rows, finish (8). One by one it was ~8 round trips per send (320 here).
    assert len(statements) <= 16, statements


def test_claim_is_idempotent_and_skips_rows_whose_credit_went_meanwhile(world, fake_wechat, clock):
    vets, openids = _recipients(world, fake_wechat, 3)
    long_term = create_veteran(station=world.x1)
    lt_openid = bind(long_term)
    with transaction():
        db.session.add(SubscriptionCredit(openid=lt_openid, template_id="TPL_CARE", long_term=True, granted=True))
    nid = care([*vets, long_term])
    with transaction():  # another notification spent the second veteran's credit after the batch's skips
        db.session.query(SubscriptionCredit).filter_by(openid=openids[1]).update({"credits": 0})
    by_veteran = {d.veteran_id: d.id for d in deliveries(nid)}
    rows = [
        SimpleNamespace(id=by_veteran[v.id], openid=o)
        for v, o in zip([*vets, long_term], [*openids, lt_openid], strict=True)
    ]
    mine, counts = claims.claim(rows, "TPL_CARE", clock["now"])
    assert [r.openid for r in mine] == [openids[0], openids[2], lt_openid]
    assert counts == {"taken": 0, "no_credit": 1}
    assert claims.claim(rows, "TPL_CARE", clock["now"]) == ([], {"taken": 4, "no_credit": 0})  # a duplicate: none
    status = {d.veteran_id: (d.status, d.skip_reason, d.attempts) for d in deliveries(nid)}
    assert status[vets[1].id] == ("skipped", "no_credit", 1)
    assert status[vets[0].id] == status[long_term.id] == ("sending", None, 1)
    assert [credits(o) for o in openids] == [0, 0, 0] and credits(lt_openid) == 0  # the long-term grant: not spent


@pytest.fixture
def killed_at(monkeypatch):
    """The worker dies (SIGKILL) right after WeChat took its `n`-th send (n = 0: right after the claim): WeChat has
    the message, nothing is recorded, nothing is released."""

    def arm(n):
        real, calls = wechat_client.send_subscribe_message, []

        def send(**kwargs):
            if len(calls) >= n:
                raise WorkerKilled()
            calls.append(real(**kwargs))
            if len(calls) == n:
                raise WorkerKilled()
            return calls[-1]

        monkeypatch.setattr(wechat_client, "send_subscribe_message", send)
        monkeypatch.setattr(claims, "record_sent", lambda sent: None)  # a dead process writes nothing more
        monkeypatch.setattr(claims, "release", lambda rows, template_id, now: 0)
        return calls

    return arm


@pytest.mark.parametrize("taken_before_death", [0, 2, 5])
def test_a_crash_between_claim_and_record_sends_nobody_twice_and_misses_nobody(
    world, fake_wechat, clock, app, monkeypatch, killed_at, taken_before_death
):
    vets, openids = _recipients(world, fake_wechat, 5)
    nid = care(vets)
    killed_at(taken_before_death)
    with pytest.raises(WorkerKilled):
        deliver(nid)
    assert {d.status for d in deliveries(nid)} == {"sending"}  # the whole group claimed, its credits spent
    assert len(fake_wechat.sent) == taken_before_death and all(credits(o) == 0 for o in openids)
    monkeypatch.undo()
    for module in (pipeline, watchdog):  # undo() dropped the clock too
        monkeypatch.setattr(module, "utcnow", lambda: clock["now"])
    assert _run_watchdog() == []  # in doubt: nothing goes again before the window passes
    assert push_sent_events(fake_wechat) == taken_before_death  # WeChat's pushes settle what it took
    clock["now"] += timedelta(seconds=app.config["NOTIFY_IN_DOUBT_SECONDS"] + 1)
    again = _run_watchdog()  # the rest: released (credits refunded) and sent once
    assert sum(r.get("sent", 0) for r in again) == 5 - taken_before_death
    assert sorted(s["touser"] for s in fake_wechat.sent) == sorted(openids)  # each exactly once
    assert {d.status for d in deliveries(nid)} == {"sent"} and all(credits(o) == 0 for o in openids)


def test_an_error_that_ends_the_batch_records_the_sent_and_releases_the_rest(world, fake_wechat, clock, monkeypatch):
    vets, openids = _recipients(world, fake_wechat, 5)
    nid = care(vets)
    real, calls = wechat_client.send_subscribe_message, []

    def send(**kwargs):
        calls.append(kwargs["openid"])
        if len(calls) == 3:  # e.g. the soft time limit, raised while the third call is in flight
            raise RuntimeError("soft time limit")
        return real(**kwargs)

    monkeypatch.setattr(wechat_client, "send_subscribe_message", send)
    with pytest.raises(RuntimeError):
        deliver(nid)
    rows = deliveries(nid)
    assert [(d.status, d.attempts) for d in rows] == [
        ("sent", 1),
        ("sent", 1),
        ("sending", 1),  # in flight when it broke: in doubt, left to the sent event or the watchdog
        ("queued", 0),
        ("queued", 0),
    ]
    assert [credits(o) for o in openids] == [0, 0, 0, 1, 1]  # the two never handed to WeChat: refunded
    assert all(d.msgid for d in rows[:2])
