"""Delivery reports per notification (counts by status, read rate over time, failures by error code), the recipients
drill-down, and a veteran's delivery history. Aggregates only: every figure is one GROUP BY in the database."""

from dataclasses import dataclass

from sqlalchemy import func, literal, select

from backend.extensions import db
from backend.inbox.models import InboxMessage
from backend.notifications.kinds import (
    DELIVERY_STATUS_LABELS,
    KIND_LABELS,
    RESULT_LABELS,
    SKIP_REASON_LABELS,
)
from backend.notifications.models import Delivery, Notification
from backend.orgs.models import OrgUnit
from backend.orgs.scope import require_permission
from backend.veterans.models import Veteran
from backend.veterans.queries import path_range

# wechat.md: the error codes a subscribe-message send answers with, in words a clerk understands
ERROR_MEANINGS = {
    43101: "用户未订阅或订阅次数已用完",
    47003: "模板参数不正确",
    45009: "当日调用次数已达上限",
    -1: "微信系统繁忙",
    40003: "用户标识（openid）无效",
    41030: "小程序页面路径不正确",
}
READ_FILTERS = {"yes": "已读", "no": "未读"}
MAX_DAYS = 62  # the read-over-time table: at most two months of days


def _count_by(column, notification_id, *conditions):
    rows = db.session.execute(
        select(column, func.count())
        .where(Delivery.notification_id == notification_id, *conditions)
        .group_by(column)
        .order_by(column)
    ).all()
    return {key: count for key, count in rows}


def _cst_day(column):
    """The China Standard Time calendar day of a UTC timestamp column, as SQL (text on SQLite, date on PostgreSQL)."""
    if db.session.get_bind().dialect.name == "postgresql":
        return func.date(func.timezone("Asia/Shanghai", column))
    return func.date(column, "+8 hours")


def summary(notification):
    """Figures for the notification's detail page (admin_portal/templates/notifications/_report.html).

    :returns: dict with total, statuses [(key, label, count)], skips, results, read, read_rate (percent or None),
        read_days [(day, reads that day, cumulative reads, cumulative percent)], failures [(code, meaning, count)].
    """
    nid = notification.id
    statuses = _count_by(Delivery.status, nid)
    total = sum(statuses.values())
    skips = _count_by(Delivery.skip_reason, nid, Delivery.status == "skipped")
    results = _count_by(Delivery.result, nid, Delivery.result.is_not(None))
    failures = _count_by(Delivery.error_code, nid, Delivery.status == "failed")
    inbox = select(func.count(), func.count(InboxMessage.read_at)).where(InboxMessage.notification_id == nid)
    entries, read = db.session.execute(inbox).one()
    day = _cst_day(InboxMessage.read_at)
    days = db.session.execute(
        select(day, func.count())
        .where(InboxMessage.notification_id == nid, InboxMessage.read_at.is_not(None))
        .group_by(day)
        .order_by(day)
        .limit(MAX_DAYS)
    ).all()
    read_days, running = [], 0
    for when, count in days:
        running += count
        read_days.append((str(when), count, running, _percent(running, entries)))
    return {
        "total": total,
        "statuses": [(k, label, statuses.get(k, 0)) for k, label in DELIVERY_STATUS_LABELS.items()],
        "skips": [(k, label, skips[k]) for k, label in SKIP_REASON_LABELS.items() if skips.get(k)],
        "results": [(k, label, results.get(k, 0)) for k, label in RESULT_LABELS.items()],
        "inbox": entries,
        "read": read,
        "read_rate": _percent(read, entries),
        "read_days": read_days,
        "failures": sorted(
            ((code, ERROR_MEANINGS.get(code, "其他错误"), count) for code, count in failures.items()),
            key=lambda row: -row[2],
        ),
    }


def _percent(part, whole):
    return round(100.0 * part / whole, 1) if whole else None


def get_notification_for_report(*, actor, notification_id):
    """The notification if its sender unit lies in the actor's subtree (system events without a sender unit are in
    nobody's). :raises PermissionDenied, NotificationNotFound:"""
    from backend.notifications.compose import get_notification

    return get_notification(actor=actor, notification_id=notification_id)


@dataclass
class RecipientFilter:
    status: str | None = None  # a DELIVERY_STATUS_LABELS key
    result: str | None = None  # a RESULT_LABELS key, or "none" (no answer from WeChat yet)
    read: str | None = None  # yes | no

    @classmethod
    def parse(cls, args):
        """Unknown values are ignored (the filter is dropped), never an error."""
        status, result, read = args.get("status"), args.get("result"), args.get("read")
        return cls(
            status=status if status in DELIVERY_STATUS_LABELS else None,
            result=result if result in RESULT_LABELS or result == "none" else None,
            read=read if read in READ_FILTERS else None,
        )


@dataclass
class RecipientRow:
    delivery_id: int
    veteran_id: int
    name: str
    station: str
    status: str
    skip_reason: str | None
    result: str | None
    error_code: int | None
    sent_at: object
    read_at: object


def list_recipients(*, actor, notification, filters, after=None, limit=50):
    """One page of the notification's recipients within the actor's scope, delivery id ascending.

    :returns: (rows [RecipientRow], next_after or None)
    """
    require_permission(actor, "notifications.view")
    query = (
        select(
            Delivery.id,
            Delivery.veteran_id,
            Veteran.name,
            OrgUnit.name,
            Delivery.status,
            Delivery.skip_reason,
            Delivery.result,
            Delivery.error_code,
            Delivery.sent_at,
            InboxMessage.read_at,
        )
        .join(Veteran, Veteran.id == Delivery.veteran_id)
        .join(OrgUnit, OrgUnit.id == Veteran.station_id)
        .outerjoin(
            InboxMessage,
            (InboxMessage.notification_id == Delivery.notification_id)
            & (InboxMessage.veteran_id == Delivery.veteran_id),
        )
        .where(Delivery.notification_id == notification.id, *path_range(actor.scope_path))
    )
    if filters.status:
        query = query.where(Delivery.status == filters.status)
    if filters.result == "none":
        query = query.where(Delivery.result.is_(None))
    elif filters.result:
        query = query.where(Delivery.result == filters.result)
    if filters.read == "yes":
        query = query.where(InboxMessage.read_at.is_not(None))
    elif filters.read == "no":
        query = query.where(InboxMessage.read_at.is_(None))
    if after and 0 < after < 2**63:
        query = query.where(Delivery.id > after)
    rows = [RecipientRow(*row) for row in db.session.execute(query.order_by(Delivery.id).limit(limit + 1)).all()]
    return rows[:limit], (rows[limit - 1].delivery_id if len(rows) > limit else None)


@dataclass
class HistoryRow:
    delivery_id: int
    kind_label: str
    title: str
    status: str
    skip_reason: str | None
    result: str | None
    sent_at: object
    created_at: object
    read_at: object


def veteran_history(*, veteran_id, before=None, limit=10):
    """The veteran's deliveries, newest first, keyset by delivery id (the caller has already checked the veteran is
    in scope: the veteran page). :returns: (rows [HistoryRow], next_before or None)"""
    query = (
        select(
            Delivery.id,
            Notification.kind,
            Notification.title,
            Delivery.status,
            Delivery.skip_reason,
            Delivery.result,
            Delivery.sent_at,
            Delivery.created_at,
            InboxMessage.read_at,
        )
        .join(Notification, Notification.id == Delivery.notification_id)
        .outerjoin(
            InboxMessage,
            (InboxMessage.notification_id == Delivery.notification_id)
            & (InboxMessage.veteran_id == literal(veteran_id)),
        )
        .where(Delivery.veteran_id == veteran_id)
    )
    if before and 0 < before < 2**63:
        query = query.where(Delivery.id < before)
    found = db.session.execute(query.order_by(Delivery.id.desc()).limit(limit + 1)).all()
    rows = [HistoryRow(r[0], KIND_LABELS.get(r[1], "系统消息"), *r[2:]) for r in found[:limit]]
    return rows, (rows[-1].delivery_id if len(found) > limit else None)
