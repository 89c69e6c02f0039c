"""The subscribe-message credit ledger (wechat.md §8): accept, spend, 43101, change-event reject, refund, and the
sent event reconciled by msgid."""

from sqlalchemy import select

from backend.db import transaction
from backend.extensions import db
from backend.subscriptions import service as ledger
from backend.subscriptions.models import SubscriptionCredit
from tests.factories import create_veteran
from tests.notifications.helpers import bind, care, deliver, deliveries, grant


def _event(openid, name, item, at=1700000000):
    return {
        "ToUserName": "gh_1",
        "FromUserName": openid,
        "CreateTime": at,
        "MsgType": "event",
        "Event": name,
        "List": item,
    }


def _accept(openid, at):
    item = {"TemplateId": "TPL_CARE", "SubscribeStatusString": "accept", "PopupScene": "0"}
    return ledger.handle_event(_event(openid, "subscribe_msg_popup_event", item, at))


def _row(openid):
    return db.session.scalars(
        select(SubscriptionCredit)
        .where(SubscriptionCredit.openid == openid, SubscriptionCredit.template_id == "TPL_CARE")
        .execution_options(populate_existing=True)
    ).first()


def _spend(openid):
    with transaction():
        return ledger.consume_credit(openid=openid, template_id="TPL_CARE")


def test_accepts_add_credits_and_spending_never_goes_below_zero():
    _accept("o-l1", 1)
    _accept("o-l1", 2)
    assert _row("o-l1").credits == 2
    assert [_spend("o-l1") for _ in range(3)] == [True, True, False]
    assert _row("o-l1").credits == 0


def test_43101_zeroes_and_blocks_until_a_new_accept():
    _accept("o-l2", 1)
    _accept("o-l2", 2)
    with transaction():
        ledger.refuse(openid="o-l2", template_id="TPL_CARE")
    assert (_row("o-l2").credits, _row("o-l2").refused) == (0, True)
    _accept("o-l2", 3)
    assert (_row("o-l2").credits, _row("o-l2").refused) == (1, False)


def test_change_event_reject_zeroes_and_refuses():
    _accept("o-l3", 1)
    item = {"TemplateId": "TPL_CARE", "SubscribeStatusString": "reject"}
    assert ledger.handle_event(_event("o-l3", "subscribe_msg_change_event", item, 2))
    assert (_row("o-l3").credits, _row("o-l3").refused) == (0, True)


def test_refund_gives_back_one_credit_but_never_to_a_long_term_grant():
    _accept("o-l4", 1)
    assert _spend("o-l4")
    with transaction():
        ledger.refund_credit(openid="o-l4", template_id="TPL_CARE")
        db.session.add(SubscriptionCredit(openid="o-l5", template_id="TPL_CARE", long_term=True, granted=True))
    with transaction():
        ledger.refund_credit(openid="o-l5", template_id="TPL_CARE")
    assert _row("o-l4").credits == 1 and _row("o-l5").credits == 0


def test_sent_event_is_reconciled_by_msgid_once(world, fake_wechat):
    vets = [create_veteran(station=world.x1) for _ in range(2)]
    openids = [bind(v) for v in vets]
    for openid in openids:
        grant(fake_wechat, openid)
    nid = care(vets)
    deliver(nid)
    events = fake_wechat.drain_events()
    by_msgid = {d.msgid: d.veteran_id for d in deliveries(nid)}
    second = events[1]
    second["List"].update(ErrorCode="43101", ErrorStatus="user refuse to accept the msg")
    for event in events:
        assert ledger.handle_event(event) is True
    assert ledger.handle_event(events[0]) is False  # WeChat's retry of the same push
    results = {d.veteran_id: (d.result, d.result_code) for d in deliveries(nid)}
    first_vet = by_msgid[events[0]["List"]["MsgID"]]
    second_vet = by_msgid[second["List"]["MsgID"]]
    assert results == {first_vet: ("success", 0), second_vet: ("refused", 43101)}


def test_sent_event_of_an_unknown_send_changes_nothing():
    item = {"TemplateId": "TPL_CARE", "MsgID": "123456789", "ErrorCode": "0", "ErrorStatus": "success"}
    assert ledger.handle_event(_event("o-nobody", "subscribe_msg_sent_event", item)) is True
    assert ledger.reconcile_sent("o-nobody", "TPL_CARE", item) is None
