"""Issue 21 (P7): a staff fan-out enqueues each chunk's batch as soon as the chunk is committed, so sending overlaps
the rest of the materialization; every queued delivery is in exactly one batch, and a resumed fan-out still covers
the chunks written before it died."""

import pytest

from backend.notifications import materialize as fanout
from backend.notifications.delivery import deliver_batch, fan_out
from tests.factories import create_veteran
from tests.notifications.helpers import bind, deliveries, grant, notification, staff_notification


def test_each_chunk_is_enqueued_while_the_fan_out_is_still_materializing(world, fake_wechat, app, monkeypatch):
    monkeypatch.setitem(app.config, "NOTIFY_BATCH_SIZE", 2)
    vets = [create_veteran(station=world.x1) for _ in range(5)]
    for v in vets:
        grant(fake_wechat, bind(v))
    nid = staff_notification(world, vets)
    handed = []

    def batch(n, first, last):  # what the broker would get, and what was materialized at that moment
        handed.append((first, last, notification(n).materialized))

    assert fan_out(nid, batch=batch) == 3
    assert [materialized for *_, materialized in handed] == [False, False, False]  # none waited for the end
    ids = [d.id for d in deliveries(nid)]
    covered = [i for first, last, _ in handed for i in ids if first <= i <= last]
    assert sorted(covered) == ids  # each queued delivery in exactly one batch
    for first, last, _ in handed:
        deliver_batch(nid, first, last)
    assert len(fake_wechat.sent) == 5 and notification(nid).status == "done"


def test_a_resumed_fan_out_covers_the_chunks_its_predecessor_wrote(world, fake_wechat, app, monkeypatch):
    monkeypatch.setitem(app.config, "NOTIFY_BATCH_SIZE", 2)
    vets = [create_veteran(station=world.x1) for _ in range(5)]
    for v in vets:
        grant(fake_wechat, bind(v))
    nid = staff_notification(world, vets)
    real, calls = fanout._materialize_chunk, []

    def dies_on_second_chunk(n, after, limit):
        calls.append(after)
        if len(calls) == 2:
            raise RuntimeError("worker died")
        return real(n, after, limit)

    monkeypatch.setattr(fanout, "_materialize_chunk", dies_on_second_chunk)
    with pytest.raises(RuntimeError):
        fan_out(nid, batch=lambda *a: None)  # its first chunk's batch is lost with the worker
    monkeypatch.setattr(fanout, "_materialize_chunk", real)
    ranges = []
    assert fan_out(nid, batch=lambda n, first, last: ranges.append((first, last))) == 3
    for first, last in ranges:
        deliver_batch(nid, first, last)
    assert sorted(s["touser"] for s in fake_wechat.sent) == sorted({s["touser"] for s in fake_wechat.sent})
    assert len(fake_wechat.sent) == 5 and notification(nid).status == "done"
