"""The subscribe-message ledger (wechat.md §8) and WeChat push events.

One-time templates: each accept is one credit; the client's report and WeChat's popup event describe the same tap,
so an accept from one source within MATCH_WINDOW of an unmatched accept from the other counts once. Long-term
templates: a standing grant. A `reject` from the change event zeroes the credit and withdraws the grant.
"""

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from backend.db import transaction, utcnow
from backend.extensions import db
from backend.notifications.models import MessageTemplate, MessageTemplateVersion
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
    if row.long_term:
        row.granted = True
    else:
        row.credits += 1
    return row


def _withdraw(openid, template_id):
    row = _credit_row(openid, template_id)
    row.credits, row.granted = 0, False


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


def list_status(*, account):
    rows = {
        r.template_id: r
        for r in db.session.scalars(select(SubscriptionCredit).where(SubscriptionCredit.openid == account.openid))
    }
    out = []
    for t in templates().values():
        row = rows.get(t["template_id"])
        credits = row.credits if row else 0
        granted = bool(row and row.granted)
        long_term = bool(t.get("long_term"))
        out.append(
            TemplateStatus(
                t["kind"], t["title"], t["template_id"], long_term, credits, granted if long_term else credits > 0
            )
        )
    return out


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
            if not openid or template_id not in known:
                continue
            status = as_str(item.get("SubscribeStatusString"))
            if name == "subscribe_msg_popup_event" and status == "accept":
                _accept(openid, template_id, "event")
            elif name in ("subscribe_msg_popup_event", "subscribe_msg_change_event") and status == "reject":
                if name == "subscribe_msg_change_event" or known[template_id].get("long_term"):
                    _withdraw(openid, template_id)
    return True
