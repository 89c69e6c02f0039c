"""The subscribe-message ledger (wechat.md §8) and WeChat push events.

One-time templates: each accept is one credit; the client's report and WeChat's popup event describe the same tap,
so an accept from one source within MATCH_WINDOW of an unmatched accept from the other counts once. Long-term
templates: a standing grant. A `reject` from the change event zeroes the credit, withdraws the grant and marks the
row refused (deliveries skip it); a new accept clears that. A send answered 43101 does the same (`refuse`).
`subscribe_msg_sent_event` is reconciled with the delivery that sent it, by msgid (`reconcile_sent`).
"""

from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import and_, case, or_, select, update
from sqlalchemy.exc import IntegrityError

from backend.db import transaction, utcnow
from backend.extensions import db
from backend.notifications.kinds import KIND_LABELS, KIND_TEMPLATE
from backend.notifications.models import Delivery, MessageTemplate, MessageTemplateVersion, Notification
from backend.subscriptions.models import SubscriptionAccept, SubscriptionCredit, WechatEvent
from backend.wechat.push import as_str, event_items

MATCH_WINDOW = timedelta(minutes=10)


def templates():
    """{wechat template id: {"template_id", "kind", "kinds", "title", "long_term"}} from the template versions in
    force (the system administrator maps them in the portal; several message kinds may share one WeChat template)."""
    rows = db.session.execute(
        select(
            MessageTemplate.key,
            MessageTemplate.name,
            MessageTemplateVersion.wechat_template_id,
            MessageTemplateVersion.long_term,
        )
        .join(MessageTemplateVersion, MessageTemplate.current_version_id == MessageTemplateVersion.id)
        .where(MessageTemplateVersion.wechat_template_id.is_not(None))
        .order_by(MessageTemplate.id)
    )
    out = {}
    for key, name, template_id, long_term in rows:
        entry = out.setdefault(
            template_id, {"template_id": template_id, "kind": key, "kinds": [], "title": name, "long_term": long_term}
        )
        entry["kinds"].append(key)
    return out


def _credit_row(openid, template_id):
    query = select(SubscriptionCredit).where(
        SubscriptionCredit.openid == openid, SubscriptionCredit.template_id == template_id
    )
    row = db.session.scalars(query.with_for_update(of=SubscriptionCredit)).first()
    if row is not None:
        return row
    nested = db.session.begin_nested()
    try:
        row = SubscriptionCredit(
            openid=openid,
            template_id=template_id,
            credits=0,
            long_term=templates()[template_id].get("long_term", False),
        )
        db.session.add(row)
        nested.commit()
    except IntegrityError:
        nested.rollback()
        row = db.session.scalars(query.with_for_update(of=SubscriptionCredit)).one()
    return row


def _accept(openid, template_id, source):
    row = _credit_row(openid, template_id)  # lock first: the two halves of one tap serialise on this row
    other = "event" if source == "client" else "client"
    since = utcnow() - MATCH_WINDOW
    pending = db.session.scalars(
        select(SubscriptionAccept)
        .where(
            SubscriptionAccept.openid == openid,
            SubscriptionAccept.template_id == template_id,
            SubscriptionAccept.source == other,
            SubscriptionAccept.matched.is_(False),
            SubscriptionAccept.occurred_at >= since,
        )
        .order_by(SubscriptionAccept.id)
        .limit(1)
        .with_for_update()
    ).first()
    if pending is not None:  # the other half of the same tap: already counted
        pending.matched = True
        db.session.add(SubscriptionAccept(openid=openid, template_id=template_id, source=source, matched=True))
        return row
    db.session.add(SubscriptionAccept(openid=openid, template_id=template_id, source=source))
    row.refused = False  # a fresh accept turns the template back on
    if row.long_term:
        row.granted = True
    else:
        row.credits += 1
    return row


def _withdraw(openid, template_id, *, refused=False):
    row = _credit_row(openid, template_id)
    row.credits, row.granted = 0, False
    if refused:
        row.refused = True


def report_results(*, account, results):
    """The client's report of wx.requestSubscribeMessage. Unknown template ids are ignored."""
    known = templates()
    with transaction():
        for template_id, status in results.items():
            if template_id not in known:
                continue
            if status == "accept":
                _accept(account.openid, template_id, "client")
            elif status in ("reject", "ban") and known[template_id].get("long_term"):
                _withdraw(account.openid, template_id)
    return list_status(account=account)


@dataclass
class TemplateStatus:
    kind: str
    title: str
    template_id: str
    long_term: bool
    credits: int
    can_push: bool
    kinds: list = field(default_factory=list)  # [{"key", "label"}]: the message kinds this template carries
    needs_resubscribe: bool = False  # one-time: no credit left or refused; long-term: not granted


# wx.requestSubscribeMessage takes at most 3 template ids per tap (quality.md §1.7).
RESUBSCRIBE_PER_CALL = 3


def list_status(*, account):
    """Per WeChat template in force: credits, whether a push can go out, and whether to prompt a re-subscribe."""
    rows = {
        r.template_id: r
        for r in db.session.scalars(select(SubscriptionCredit).where(SubscriptionCredit.openid == account.openid))
    }
    out = []
    for t in templates().values():
        row = rows.get(t["template_id"])
        credits = row.credits if row else 0
        granted = bool(row and row.granted)
        refused = bool(row and row.refused)
        long_term = bool(t.get("long_term"))
        can_push = (granted if long_term else credits > 0) and not refused
        kinds = [
            {"key": kind, "label": KIND_LABELS.get(kind, kind)}
            for kind, key in KIND_TEMPLATE.items()
            if key in t.get("kinds", ())
        ]
        out.append(
            TemplateStatus(t["kind"], t["title"], t["template_id"], long_term, credits, can_push, kinds, not can_push)
        )
    return out


def resubscribe_ids(statuses):
    """The template ids to pass to the next wx.requestSubscribeMessage, in the order of the list (at most 3)."""
    return [s.template_id for s in statuses if s.needs_resubscribe][:RESUBSCRIBE_PER_CALL]


def consume_credit(*, openid, template_id):
    """Spend one credit before a send (conditional UPDATE: never below zero). Returns True when one was spent."""
    row = db.session.scalars(
        select(SubscriptionCredit).where(
            SubscriptionCredit.openid == openid, SubscriptionCredit.template_id == template_id
        )
    ).first()
    if row is not None and row.long_term:
        return row.granted
    result = db.session.execute(
        update(SubscriptionCredit)
        .where(
            SubscriptionCredit.openid == openid,
            SubscriptionCredit.template_id == template_id,
            SubscriptionCredit.credits > 0,
        )
        .values(credits=SubscriptionCredit.credits - 1)
    )
    return result.rowcount == 1


def consume_credits(*, openids, template_id):
    """consume_credit for many openids in one statement (issue 21, the batch claim): a long-term grant is used
    without spending, a counted credit is spent only while above zero. Returns the set of openids that got one."""
    if not openids:
        return set()
    usable = or_(
        and_(SubscriptionCredit.long_term.is_(True), SubscriptionCredit.granted.is_(True)),
        and_(SubscriptionCredit.long_term.is_(False), SubscriptionCredit.credits > 0),
    )
    spend = case(
        (SubscriptionCredit.long_term.is_(True), SubscriptionCredit.credits), else_=SubscriptionCredit.credits - 1
    )
    rows = db.session.scalars(
        update(SubscriptionCredit)
        .where(SubscriptionCredit.template_id == template_id, SubscriptionCredit.openid.in_(list(openids)), usable)
        .values(credits=spend)
        .returning(SubscriptionCredit.openid)
        .execution_options(synchronize_session=False)
    )
    return set(rows)


def refund_credits(*, openids, template_id):
    """refund_credit for many openids in one statement (claimed sends given back unsent)."""
    if not openids:
        return
    db.session.execute(
        update(SubscriptionCredit)
        .where(
            SubscriptionCredit.openid.in_(list(openids)),
            SubscriptionCredit.template_id == template_id,
            SubscriptionCredit.long_term.is_(False),
        )
        .values(credits=SubscriptionCredit.credits + 1)
        .execution_options(synchronize_session=False)
    )


def _dedup_key(event):
    items = event_items(event)
    ids = ",".join(sorted(as_str(i.get("MsgID") or i.get("MsgId")) or "" for i in items))
    return f"{event.get('FromUserName')}|{as_str(event.get('CreateTime'))}|{event.get('Event')}|{ids}"[:200]


def handle_event(event):
    """Apply one WeChat push exactly once (retries are recognised by FromUserName + CreateTime + Event + MsgID).

    :returns: False for a duplicate, True when applied.
    """
    openid = as_str(event.get("FromUserName"))
    name = as_str(event.get("Event"))
    known = templates()
    with transaction():
        nested = db.session.begin_nested()
        try:
            db.session.add(
                WechatEvent(
                    dedup_key=_dedup_key(event),
                    event=name or "",
                    openid=openid,
                    payload={k: v for k, v in event.items() if k in ("Event", "MsgType", "CreateTime")},
                )
            )
            nested.commit()
        except IntegrityError:
            nested.rollback()
            return False
        for item in event_items(event):
            template_id = as_str(item.get("TemplateId"))
            if openid and name == "subscribe_msg_sent_event":  # also for a template no longer in force
                reconcile_sent(openid, template_id, item)
                continue
            if not openid or template_id not in known:
                continue
            status = as_str(item.get("SubscribeStatusString"))
            if name == "subscribe_msg_popup_event" and status == "accept":
                _accept(openid, template_id, "event")
            elif name in ("subscribe_msg_popup_event", "subscribe_msg_change_event") and status == "reject":
                if name == "subscribe_msg_change_event" or known[template_id].get("long_term"):
                    _withdraw(openid, template_id, refused=name == "subscribe_msg_change_event")
    return True


def refund_credit(*, openid, template_id):
    """Give back the credit a send spent when WeChat did not take the message (retry, quota, in doubt)."""
    db.session.execute(
        update(SubscriptionCredit)
        .where(
            SubscriptionCredit.openid == openid,
            SubscriptionCredit.template_id == template_id,
            SubscriptionCredit.long_term.is_(False),
        )
        .values(credits=SubscriptionCredit.credits + 1)
    )


def refuse(*, openid, template_id):
    """A send answered 43101: WeChat holds no credit (or the user turned the template off). Zero it and block."""
    db.session.execute(
        update(SubscriptionCredit)
        .where(SubscriptionCredit.openid == openid, SubscriptionCredit.template_id == template_id)
        .values(credits=0, granted=False, refused=True)
    )


def reconcile_sent(openid, template_id, item):
    """Apply one subscribe_msg_sent_event item to the delivery that sent it (joins the caller's transaction).

    Matched by msgid. A MsgID we do not know belongs to a send whose worker died before recording the answer (the
    delivery is still "sending", in doubt, or was put back to queued by the watchdog): it is the oldest claimed
    delivery of that openid and template without a msgid, "sending" ones first, which is now known to be sent.
    Returns the Delivery or None.
    """
    from backend.accounts.models import WechatAccount

    msgid = as_str(item.get("MsgID") or item.get("MsgId"))
    if not msgid:
        return None
    try:
        code = int(as_str(item.get("ErrorCode")) or 0)
    except ValueError:
        code = -1
    status = (as_str(item.get("ErrorStatus")) or "").lower()
    result = "success" if code == 0 else "refused" if "refuse" in status or code == 43101 else "fail"
    delivery = db.session.scalars(select(Delivery).where(Delivery.msgid == msgid).limit(1)).first()
    if delivery is None:
        delivery = db.session.scalars(
            select(Delivery)
            .join(Notification, Notification.id == Delivery.notification_id)
            .join(MessageTemplateVersion, MessageTemplateVersion.id == Notification.template_version_id)
            .join(WechatAccount, WechatAccount.veteran_id == Delivery.veteran_id)
            .where(
                WechatAccount.openid == openid,
                MessageTemplateVersion.wechat_template_id == template_id,
                Delivery.status.in_(("sending", "queued")),
                Delivery.claimed_at.is_not(None),
                Delivery.msgid.is_(None),
            )
            .order_by(case((Delivery.status == "sending", 0), else_=1), Delivery.claimed_at, Delivery.id)
            .limit(1)
            .with_for_update(of=Delivery)
        ).first()
        if delivery is None:
            return None
    now = utcnow()
    if delivery.status == "queued":  # the watchdog had refunded its credit: the send did spend it
        consume_credit(openid=openid, template_id=template_id)
    if delivery.status in ("sending", "queued"):
        delivery.status, delivery.sent_at, delivery.next_attempt_at = "sent", delivery.sent_at or now, None
    delivery.msgid = msgid
    delivery.result, delivery.result_code, delivery.result_at = result, code, now
    return delivery
