"""Keeping deliveries moving: the watchdog, and scheduled notifications that are due.

In doubt: a delivery stays "sending" when its worker died between the claim and recording WeChat's answer. WeChat
pushes a subscribe_msg_sent_event for every send it accepted (the assumption this relies on, wechat.md §7.5), and
backend/subscriptions/service.reconcile_sent marks the delivery sent from it. A delivery still "sending" with no
event NOTIFY_IN_DOUBT_SECONDS after its claim is taken as not sent: back to queued, its credit refunded. The
setting must stay above NOTIFY_TASK_TIME_LIMIT (a live worker's call ends before) and above the time WeChat takes
to push the event; a late event still finds the row (by openid and template) and turns it to sent.
"""

import logging
from datetime import timedelta

from flask import current_app
from sqlalchemy import and_, or_, select, update

from backend.accounts.models import WechatAccount
from backend.db import after_commit, transaction, utcnow
from backend.extensions import db
from backend.notifications import delivery as pipeline
from backend.notifications.models import Delivery, MessageTemplateVersion, Notification
from backend.subscriptions import service as ledger

logger = logging.getLogger(__name__)
SCAN_LIMIT = 1000


def _enqueue_deliver(notification_id):
    from backend.notifications import tasks

    tasks.enqueue_deliver(notification_id)


def release_in_doubt(now):
    """Deliveries claimed longer ago than NOTIFY_IN_DOUBT_SECONDS without an answer: back to queued (credit refunded),
    or failed once they used NOTIFY_MAX_ATTEMPTS. Returns how many."""
    cfg = current_app.config
    before = now - timedelta(seconds=cfg["NOTIFY_IN_DOUBT_SECONDS"])
    with transaction():
        rows = db.session.execute(
            select(Delivery.id, Delivery.attempts, WechatAccount.openid, MessageTemplateVersion.wechat_template_id)
            .join(Notification, Notification.id == Delivery.notification_id)
            .outerjoin(WechatAccount, WechatAccount.veteran_id == Delivery.veteran_id)
            .outerjoin(MessageTemplateVersion, MessageTemplateVersion.id == Notification.template_version_id)
            .where(Delivery.status == "sending", Delivery.claimed_at <= before)
            .order_by(Delivery.id)
            .limit(SCAN_LIMIT)
        ).all()
        for delivery_id, attempts, openid, template_id in rows:
            if attempts >= cfg["NOTIFY_MAX_ATTEMPTS"]:
                changed = pipeline._set(
                    delivery_id, "sending", status="failed", error_message="微信无应答，已达重试上限"
                )
            else:
                changed = pipeline._set(delivery_id, "sending", status="queued", next_attempt_at=now)
            if changed and openid and template_id:
                ledger.refund_credit(openid=openid, template_id=template_id)
    if rows:
        logger.warning("watchdog released %d in-doubt deliveries", len(rows))
    return len(rows)


def _progressing(notification_id, since):
    """True when a delivery of the notification moved since `since` (a live fan-out of 100k at the rate cap takes
    longer than NOTIFY_STUCK_SECONDS; its later rows are waiting in the broker, not stuck). Uses the (status,
    updated_at) index: only the rows that moved recently are read."""
    moved = select(Delivery.id).where(
        Delivery.status.in_(("sending", "sent", "failed", "skipped")),
        Delivery.updated_at > since,
        Delivery.notification_id == notification_id,
    )
    return db.session.scalar(moved.limit(1)) is not None


def _requeue(notification, now, batch):
    """Enqueue batches for the notification's queued deliveries that nobody is working on. Returns the batch count."""
    stuck = now - timedelta(seconds=current_app.config["NOTIFY_STUCK_SECONDS"])
    if notification.paused_until is not None:
        with transaction():  # the quota reset: every queued row may go again
            db.session.execute(
                update(Notification)
                .where(Notification.id == notification.id, Notification.paused_until <= now)
                .values(paused_until=None, version_id=Notification.version_id + 1)
                .execution_options(synchronize_session=False)
            )
            db.session.execute(
                update(Delivery)
                .where(Delivery.notification_id == notification.id, Delivery.status == "queued")
                .values(next_attempt_at=None, updated_at=stuck)
                .execution_options(synchronize_session=False)
            )
    eligible = Delivery.next_attempt_at <= now
    if not _progressing(notification.id, stuck):  # rows still waiting in the broker are not stuck while it moves
        eligible = or_(and_(Delivery.next_attempt_at.is_(None), Delivery.updated_at <= stuck), eligible)
    ranges = pipeline.queued_ranges(notification.id, eligible)
    for first_id, last_id in ranges:
        with transaction():  # touched: not stuck again before NOTIFY_STUCK_SECONDS pass
            db.session.execute(
                update(Delivery)
                .where(
                    Delivery.notification_id == notification.id,
                    Delivery.id.between(first_id, last_id),
                    Delivery.status == "queued",
                    eligible,
                )
                .values(next_attempt_at=None, updated_at=now)
                .execution_options(synchronize_session=False)
            )
        batch(notification.id, first_id, last_id)
    return len(ranges)


def watchdog(*, batch=None, deliver=None):
    """Release in-doubt sends, requeue stuck or due deliveries, restart fan-outs that never ran, finish what is done.

    Returns {"in_doubt", "batches", "restarted", "finished"} counts."""
    batch = batch or pipeline._enqueue_batch
    deliver = deliver or _enqueue_deliver
    now = utcnow()
    stuck = now - timedelta(seconds=current_app.config["NOTIFY_STUCK_SECONDS"])
    counts = {"in_doubt": release_in_doubt(now), "batches": 0, "restarted": 0, "finished": 0}
    with transaction():
        sending = db.session.scalars(
            select(Notification)
            .where(Notification.status == "sending")
            .order_by(Notification.id)
            .execution_options(populate_existing=True)
        ).all()
    for notification in sending:
        if notification.paused_until is not None and notification.paused_until > now:
            continue
        if not notification.materialized:
            if notification.updated_at <= stuck:  # its fan-out was lost or died: start it again (it resumes)
                deliver(notification.id)
                counts["restarted"] += 1
            continue
        counts["batches"] += _requeue(notification, now, batch)
        counts["finished"] += pipeline.finish_if_done(notification.id)
    return counts


def start_due(*, deliver=None):
    """Scheduled notifications whose time has come: scheduled -> sending (conditional), then their fan-out."""
    deliver = deliver or _enqueue_deliver
    now = utcnow()
    with transaction():
        ids = db.session.scalars(
            select(Notification.id)
            .where(Notification.status == "scheduled", Notification.scheduled_at <= now)
            .order_by(Notification.id)
        ).all()
    started = 0
    for notification_id in ids:
        with transaction():
            changed = db.session.execute(
                update(Notification)
                .where(
                    Notification.id == notification_id,
                    Notification.status == "scheduled",
                    Notification.scheduled_at <= now,
                )
                .values(status="sending", started_at=now, version_id=Notification.version_id + 1)
                .execution_options(synchronize_session=False)
            ).rowcount
            if changed:
                after_commit(deliver, notification_id)
                started += 1
    return started
