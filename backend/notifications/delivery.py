"""The delivery pipeline (issue 13; wechat.md §6, §8, §9; quality.md S33-S36).

Fan-out (`fan_out`, task notifications.deliver): a staff notification's recipients are materialized into queued
deliveries in veteran-id chunks (cursor `materialized_to`, resumable), each chunk with its inbox entries rendered per
veteran; then the queued delivery ids are cut into ranges of NOTIFY_BATCH_SIZE, one batch task each. System
notifications (events.notify) arrive with their deliveries and inbox entries already written.

Batch (`deliver_batch`, task notifications.deliver_batch): deliveries that cannot be sent are skipped set-based
(not_bound, no_template, refused, no_credit). The others are claimed NOTIFY_CLAIM_SIZE at a time in a short
committed transaction (queued -> sending, credits spent; backend/notifications/claims.py), WeChat is called outside
any transaction, and the group's accepted sends are recorded together; refusals and errors are recorded one by one.
The claim is the idempotency guard per (notification, veteran): a redelivered or duplicated batch finds the row no
longer queued and never sends twice. A row left in "sending" by a killed worker is in doubt; backend/notifications/
watchdog.py resolves it.
"""

import logging
from collections import Counter
from datetime import datetime, timedelta
from types import SimpleNamespace

from flask import current_app
from sqlalchemy import and_, exists, or_, select, update

from backend.accounts.models import WechatAccount
from backend.db import transaction, utcnow
from backend.extensions import db
from backend.notifications import claims, ratelimit, render
from backend.notifications.claims import due
from backend.notifications.materialize import load, materialize_all, shared_values
from backend.notifications.models import Delivery, MessageTemplateVersion, Notification
from backend.orgs.models import OrgUnit
from backend.subscriptions import service as ledger
from backend.subscriptions.models import SubscriptionCredit
from backend.veterans.models import Veteran
from backend.wechat import client as wechat
from backend.wechat.errors import WechatInvalidArgument, WechatNoQuota, WechatUnavailable

logger = logging.getLogger(__name__)
REFUSED = 43101  # no credit at WeChat, or the user turned the template off: never retried
DAILY_QUOTA = 45009  # pauses the whole notification until midnight CST
RETRYABLE = frozenset({-1, 45011, None})  # None: no connection, or an HTTP error before WeChat answered
# The request reached WeChat and no answer came back: it may have been sent. Never retried blindly; the row stays
# "sending" (in doubt) until its subscribe_msg_sent_event or the watchdog (backend/notifications/watchdog.py).
IN_DOUBT = frozenset({"ReadTimeout", "ChunkedEncodingError"})
SEND_ERRORS = (WechatNoQuota, WechatInvalidArgument, WechatUnavailable)


def _cfg(name):
    return current_app.config[name]


def next_midnight_cst(now):
    from backend.registration.windows import CST

    local = now.astimezone(CST)
    return datetime.combine(local.date() + timedelta(days=1), datetime.min.time(), tzinfo=CST).astimezone(now.tzinfo)


def _enqueue_batch(notification_id, first_id, last_id):
    from backend.notifications import tasks

    tasks.enqueue_batch(notification_id, first_id, last_id)


# --- fan-out -----------------------------------------------------------------------------------------------------


def fan_out(notification_id, *, batch=None):
    """Materialize (staff), enqueueing each chunk's batch as soon as it is committed; then one batch per
    NOTIFY_BATCH_SIZE queued deliveries for whatever no chunk enqueued (system notifications arrive materialized; a
    resumed fan-out also covers the chunks written before it died). Returns the batch count."""
    batch = batch or _enqueue_batch
    with transaction():
        notification = load(notification_id)
        if notification is None or notification.status != "sending":
            return 0
    if not notification.materialized and notification.materialized_to is None:
        handed = materialize_all(notification_id, on_chunk=lambda first, last: batch(notification_id, first, last))
        finish_if_done(notification_id)  # every chunk went out as it was written (here or by a duplicate's turns)
        return handed
    if not notification.materialized:  # resumed: the dead fan-out's last chunk may never have been enqueued
        materialize_all(notification_id)
    ranges = queued_ranges(notification_id)
    for first_id, last_id in ranges:
        batch(notification_id, first_id, last_id)
    finish_if_done(notification_id)
    return len(ranges)


def queued_ranges(notification_id, *conditions):
    """(first id, last id) of each run of NOTIFY_BATCH_SIZE queued deliveries (keyset by id)."""
    size, after, out = _cfg("NOTIFY_BATCH_SIZE"), 0, []
    while True:
        with transaction():
            ids = db.session.scalars(
                select(Delivery.id)
                .where(
                    Delivery.notification_id == notification_id,
                    Delivery.status == "queued",
                    Delivery.id > after,
                    *conditions,
                )
                .order_by(Delivery.id)
                .limit(size)
            ).all()
        if ids:
            out.append((ids[0], ids[-1]))
            after = ids[-1]
        if len(ids) < size:
            return out


# --- batches -------------------------------------------------------------------------------------------------------


def _credit(template_id, condition):
    return exists().where(
        WechatAccount.veteran_id == Delivery.veteran_id,
        SubscriptionCredit.openid == WechatAccount.openid,
        SubscriptionCredit.template_id == template_id,
        condition,
    )


def skip_unsendable(notification_id, template, first_id, last_id, now):
    """Set-based skips of the range's queued deliveries that cannot go to WeChat. Returns {reason: rows}."""
    scope = (Delivery.notification_id == notification_id, Delivery.id.between(first_id, last_id))
    tid = template.wechat_template_id if template else None
    rules = [("not_bound", ~exists().where(WechatAccount.veteran_id == Delivery.veteran_id))]
    if not tid:
        rules.append(("no_template", Delivery.id.is_not(None)))
    else:
        usable = or_(
            and_(SubscriptionCredit.long_term.is_(True), SubscriptionCredit.granted.is_(True)),
            and_(SubscriptionCredit.long_term.is_(False), SubscriptionCredit.credits > 0),
        )
        rules.append(("refused", _credit(tid, SubscriptionCredit.refused.is_(True))))
        rules.append(("no_credit", ~_credit(tid, usable)))
    out = {}
    for reason, condition in rules:
        result = db.session.execute(
            update(Delivery)
            .where(*scope, Delivery.status == "queued", condition)
            .values(status="skipped", skip_reason=reason, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        out[reason] = result.rowcount
    return out


def _snapshot(version):
    if version is None:
        return None
    return SimpleNamespace(
        id=version.id,
        wechat_template_id=version.wechat_template_id,
        page=version.page,
        fields=list(version.fields or []),
    )


def deliver_batch(notification_id, first_id, last_id):
    """Send the queued deliveries with ids in [first_id, last_id] that are due. Returns {outcome: count}."""
    now = utcnow()
    with transaction():
        notification = load(notification_id)
        if notification is None or notification.status != "sending":
            return {}
        if notification.paused_until is not None and notification.paused_until > now:
            return {"paused": 1}
        version = db.session.get(MessageTemplateVersion, notification.template_version_id or 0)
        template = _snapshot(version)
        counts = Counter(skip_unsendable(notification_id, template, first_id, last_id, now))
        base = shared_values(notification)
        rows = db.session.execute(
            select(Delivery.id, Delivery.attempts, WechatAccount.openid, Veteran.name, OrgUnit.name.label("station"))
            .join(WechatAccount, WechatAccount.veteran_id == Delivery.veteran_id)
            .join(Veteran, Veteran.id == Delivery.veteran_id)
            .join(OrgUnit, OrgUnit.id == Veteran.station_id)
            .where(
                Delivery.notification_id == notification_id,
                Delivery.id.between(first_id, last_id),
                Delivery.status == "queued",
                due(now),
            )
            .order_by(Delivery.id)
        ).all()
    size = _cfg("NOTIFY_CLAIM_SIZE")
    for start in range(0, len(rows), size):
        outcomes = send_group(notification_id, template, rows[start : start + size], base)
        counts.update(outcomes)
        if outcomes.get("paused"):
            break
    finish_if_done(notification_id)
    return {key: value for key, value in counts.items() if value}


def _set(delivery_id, from_status, **values):
    """A conditional transition of one delivery; True when this call made it."""
    values.setdefault("updated_at", utcnow())
    return (
        db.session.execute(
            update(Delivery)
            .where(Delivery.id == delivery_id, Delivery.status == from_status)
            .values(**values)
            .execution_options(synchronize_session=False)
        ).rowcount
        == 1
    )


def send_group(notification_id, template, rows, base):
    """Claim a group of rows at once, call WeChat for each (no transaction open), record the accepted sends
    together (backend/notifications/claims.py). Returns {outcome: count}; a 45009 stops the group ("paused")."""
    counts, sent, tid = Counter(), [], template.wechat_template_id
    ratelimit.acquire(count=len(rows))  # before the claim: a waiting worker holds nothing
    pending, skipped = claims.claim(rows, tid, utcnow())
    counts.update(skipped)
    pending.reverse()  # popped from the end: in id order
    try:
        while pending:
            row = pending.pop()  # from here on in flight: if this process dies, the row stays "sending" (in doubt)
            card = render.card(template, {**base, "姓名": row.name, "服务站": row.station})
            try:
                msgid = wechat.send_subscribe_message(
                    openid=row.openid, template_id=card["template_id"], data=card["data"], page=card["page"]
                )
            except SEND_ERRORS as error:
                outcome = record_failure(notification_id, row, template, error)
                counts[outcome] += 1
                if outcome == "paused":
                    break
                continue
            sent.append((row.id, msgid, utcnow()))
            counts["sent"] += 1
    finally:  # also on an error that ends the batch (a soft time limit); a SIGKILL leaves the rows in doubt
        claims.record_sent(sent)
        claims.release(pending, tid, utcnow())  # claimed, never handed to WeChat
    return counts


def record_failure(notification_id, row, template, error):
    """Apply WeChat's refusal of one send (wechat.md §6, §8, §9). Returns the outcome."""
    code, message = error.details.get("errcode"), (error.details.get("errmsg") or error.message)[:200]
    attempts, now = row.attempts + 1, utcnow()
    credit = dict(openid=row.openid, template_id=template.wechat_template_id)
    with transaction():
        if code is None and error.details.get("errmsg") in IN_DOUBT:
            _set(row.id, "sending", error_message=message)
            return "in_doubt"
        if code == REFUSED:
            if _set(row.id, "sending", status="failed", error_code=code, error_message=message):
                ledger.refuse(**credit)
            return "refused"
        if code == DAILY_QUOTA:
            until = next_midnight_cst(now)
            if _set(
                row.id,
                "sending",
                status="queued",
                attempts=Delivery.attempts - 1,  # the quota, not the message: this try does not count
                next_attempt_at=until,
                error_code=code,
                error_message=message,
            ):
                ledger.refund_credit(**credit)
            db.session.execute(
                update(Notification)
                .where(Notification.id == notification_id)
                .values(paused_until=until, version_id=Notification.version_id + 1)
                .execution_options(synchronize_session=False)
            )
            logger.warning("notification %s paused until %s (45009)", notification_id, until.isoformat())
            return "paused"
        if code in RETRYABLE and attempts < _cfg("NOTIFY_MAX_ATTEMPTS"):
            wait = _cfg("NOTIFY_RETRY_BASE_SECONDS") * 2 ** (attempts - 1)
            if _set(
                row.id,
                "sending",
                status="queued",
                next_attempt_at=now + timedelta(seconds=wait),
                error_code=code,
                error_message=message,
            ):
                ledger.refund_credit(**credit)
            return "retry"
        if _set(row.id, "sending", status="failed", error_code=code, error_message=message):
            if not _cfg("NOTIFY_FAILED_SEND_CONSUMES"):
                ledger.refund_credit(**credit)
        return "failed"


def finish_if_done(notification_id):
    """sending -> done once materialized and no delivery is queued or sending. True when this call finished it."""
    open_rows = exists().where(Delivery.notification_id == notification_id, Delivery.status.in_(("queued", "sending")))
    with transaction():
        now = utcnow()
        return (
            db.session.execute(
                update(Notification)
                .where(
                    Notification.id == notification_id,
                    Notification.status == "sending",
                    Notification.materialized.is_(True),
                    ~open_rows,
                )
                .values(status="done", finished_at=now, paused_until=None, version_id=Notification.version_id + 1)
                .execution_options(synchronize_session=False)
            ).rowcount
            == 1
        )


def run_inline(notification_id):
    """The whole pipeline synchronously in this process (the embedded runner, and tests). Returns {outcome: count}.

    Deliveries waiting for a retry or a quota reset stay queued for the watchdog."""
    ranges = []
    fan_out(notification_id, batch=lambda nid, first_id, last_id: ranges.append((first_id, last_id)))
    totals = Counter()
    for first_id, last_id in ranges:
        totals.update(deliver_batch(notification_id, first_id, last_id))
    return dict(totals)
