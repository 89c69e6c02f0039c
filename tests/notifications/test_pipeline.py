"""The delivery pipeline end to end against the fake WeChat: inbox always, one send per credit, skips recorded."""

import pytest
from sqlalchemy import func, select

from backend.db import transaction
from backend.extensions import db
from backend.inbox.models import InboxMessage
from backend.notifications import materialize as fanout
from backend.notifications.delivery import deliver_batch, fan_out
from backend.notifications.events import notify
from backend.wechat import client as wechat_client
from tests.factories import create_veteran, valid_id_number, valid_mobile
from tests.notifications.helpers import (
    bind,
    care,
    credits,
    deliver,
    deliveries,
    grant,
    notification,
    staff_notification,
)
from tests.notifications.pii import leaks


def test_system_notification_sends_where_a_credit_is_held(world, fake_wechat):
    with_credit, without, unbound = (create_veteran(station=world.x1) for _ in range(3))
    o1, o2 = bind(with_credit), bind(without)
    grant(fake_wechat, o1)
    nid = care([with_credit, without, unbound])
    outcome = deliver(nid)
    rows = {d.veteran_id: d for d in deliveries(nid)}
    assert rows[with_credit.id].status == "sent" and rows[with_credit.id].msgid
    assert (rows[without.id].status, rows[without.id].skip_reason) == ("skipped", "no_credit")
    assert (rows[unbound.id].status, rows[unbound.id].skip_reason) == ("skipped", "not_bound")
    assert [s["touser"] for s in fake_wechat.sent] == [o1]
    assert credits(o1) == 0 and credits(o2) is None
    assert notification(nid).status == "done" and notification(nid).finished_at
    assert outcome["sent"] == 1


def test_staff_notification_materializes_in_chunks_and_renders_each_inbox_entry(world, fake_wechat, app, monkeypatch):
    monkeypatch.setitem(app.config, "NOTIFY_BATCH_SIZE", 2)
    ours = [create_veteran(station=world.x1) for _ in range(5)]
    other = create_veteran(station=world.y1)  # outside county X: never a recipient
    for v in ours[:3]:
        grant(fake_wechat, bind(v))
    nid = staff_notification(world, [*ours, other])
    ranges = []
    assert fan_out(nid, batch=lambda n, first, last: ranges.append((first, last))) == 3
    n = notification(nid)
    assert n.materialized and n.recipient_count == 5 and n.status == "sending"
    inbox = db.session.scalars(select(InboxMessage).where(InboxMessage.notification_id == nid)).all()
    assert sorted(m.veteran_id for m in inbox) == sorted(v.id for v in ours)
    names = {v.id: v.name for v in ours}
    assert all(m.body == f"{names[m.veteran_id]}同志：青山县祝您重阳节安康。青山镇服务站" for m in inbox)
    for first, last in ranges:
        deliver_batch(nid, first, last)
    assert len(fake_wechat.sent) == 3 and notification(nid).status == "done"
    card = fake_wechat.sent[0]
    assert card["template_id"] == "TPL_CARE" and card["data"]["thing2"]["value"] == "青山县"
    assert card["page"] == "pages/inbox/index"


def test_fan_out_resumes_from_its_cursor_and_never_writes_a_second_inbox_entry(world, fake_wechat, app, monkeypatch):
    monkeypatch.setitem(app.config, "NOTIFY_BATCH_SIZE", 2)
    vets = [create_veteran(station=world.x1) for _ in range(3)]
    nid = staff_notification(world, vets)
    calls = []
    real = fanout._materialize_chunk

    def dies_after_first_chunk(notification, after, limit):
        calls.append(after)
        if len(calls) == 2:
            raise RuntimeError("worker died")
        return real(notification, after, limit)

    monkeypatch.setattr(fanout, "_materialize_chunk", dies_after_first_chunk)
    with pytest.raises(RuntimeError):
        fan_out(nid, batch=lambda *a: None)
    assert notification(nid).materialized_to == vets[1].id and not notification(nid).materialized
    monkeypatch.setattr(fanout, "_materialize_chunk", real)
    deliver(nid)
    deliver(nid)  # a duplicated deliver task: nothing more
    counts = db.session.execute(
        select(InboxMessage.veteran_id, func.count())
        .where(InboxMessage.notification_id == nid)
        .group_by(InboxMessage.veteran_id)
    ).all()
    assert sorted(counts) == sorted((v.id, 1) for v in vets)
    assert len(deliveries(nid)) == 3 and notification(nid).status == "done"


@pytest.mark.parametrize("claim_size, duplicate", [(1, {"sent": 2}), (20, {})])
def test_a_redelivered_batch_never_sends_twice(world, fake_wechat, monkeypatch, app, claim_size, duplicate):
    # One row claimed at a time, the duplicate sends the other two; a whole group claimed, it finds nothing queued.
    monkeypatch.setitem(app.config, "NOTIFY_CLAIM_SIZE", claim_size)
    vets = [create_veteran(station=world.x1) for _ in range(3)]
    for v in vets:
        grant(fake_wechat, bind(v), count=2)  # a spare credit: a second send would be possible
    nid = care(vets)
    first, last = deliveries(nid)[0].id, deliveries(nid)[-1].id
    real_send, duplicates = wechat_client.send_subscribe_message, []

    def send_while_a_duplicate_task_runs(**kwargs):
        if not duplicates:  # the broker hands the same batch to another worker mid-send
            duplicates.append(None)
            duplicates[0] = deliver_batch(nid, first, last)
        return real_send(**kwargs)

    monkeypatch.setattr(wechat_client, "send_subscribe_message", send_while_a_duplicate_task_runs)
    deliver_batch(nid, first, last)
    assert deliver_batch(nid, first, last) == {}  # redelivered after the fact: nothing left
    assert duplicates == [duplicate]  # the rows being sent (claimed) were not queued any more
    assert sorted(s["touser"] for s in fake_wechat.sent) == sorted({s["touser"] for s in fake_wechat.sent})
    assert len(fake_wechat.sent) == 3 and {d.status for d in deliveries(nid)} == {"sent"}
    assert all(d.attempts == 1 for d in deliveries(nid))


def test_long_term_grant_sends_without_spending(world, fake_wechat):
    from backend.subscriptions.models import SubscriptionCredit

    v = create_veteran(station=world.x1)
    openid = bind(v)
    with transaction():
        db.session.add(SubscriptionCredit(openid=openid, template_id="TPL_CARE", long_term=True, granted=True))
    fake_wechat.long_term.add("TPL_CARE")
    fake_wechat.grants.add((openid, "TPL_CARE"))
    deliver(care([v]))
    deliver(care([v]))
    assert len(fake_wechat.sent) == 2 and credits(openid) == 0


def test_every_kind_card_carries_no_personal_data(world, fake_wechat):
    from backend.notifications.kinds import KIND_TEMPLATE

    v = create_veteran(station=world.x1, id_number=valid_id_number(), phone=valid_mobile())
    openid = bind(v)
    for template_id in ("TPL_CARE", "TPL_REGISTRATION", "TPL_TRAVEL", "TPL_BOOKING"):
        grant(fake_wechat, openid, template_id, count=len(KIND_TEMPLATE))
    leaky = f"{v.id_number} {v.phone}"  # a careless caller: render.clip masks both before the card leaves
    values = {
        "结果": "已通过",
        "约谈日期": "2027年03月01日",
        "截止日期": "2027年06月30日",
        "预约时间": "2027-03-01 09:00",
    }
    for kind in KIND_TEMPLATE:
        deliver(notify(kind, [v.id], title=f"标题{leaky}", body=f"正文{leaky}", values={**values, "原因": leaky}).id)
    assert len(fake_wechat.sent) == len(KIND_TEMPLATE)
    assert leaks(fake_wechat.payloads) == []  # and the fake_wechat fixture scans again on teardown
