"""The call list (电话联系任务): nobody silently unreachable.

For follow-up notifications of the last 30 days, a veteran not bound to WeChat, or whose inbox entry is still unread
NOTIFY_CALL_AFTER_DAYS after it arrived while the WeChat push did not get through, becomes an open task of their
station; staff phone them and record the outcome. build() is set-based and touches only rows that change: it inserts
the tasks that are missing (one per delivery, unique) and closes the open ones whose message has been read meanwhile.
"""

import re
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import and_, exists, func, literal, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from backend import denials
from backend.audit import service as audit_service
from backend.db import transaction, utcnow
from backend.errors import NotFound, RuleViolation, ValidationFailed
from backend.extensions import db
from backend.inbox.models import InboxMessage
from backend.names import clean_name
from backend.notifications.models import CallTask, Delivery, Notification
from backend.orgs.models import OrgUnit
from backend.orgs.scope import require_permission
from backend.veterans.models import Veteran
from backend.veterans.queries import path_range

WINDOW_DAYS = 30
# issue 19: "unacked" tasks come from an education campaign's chase (backend/education/followup.py); they close when
# the reminder is acknowledged, not merely read
REASON_LABELS = {"unbound": "未绑定微信", "unread": "消息多日未读", "unacked": "教育提醒未确认知悉"}
OUTCOME_LABELS = {"reached": "已联系上", "no_answer": "无人接听", "wrong_number": "号码有误", "declined": "不愿沟通"}
CLOSED_LABELS = {**OUTCOME_LABELS, "read": "已阅读消息"}
NOTE_MAX = 300
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


class CallTaskNotFound(NotFound):
    code = "notifications.call_not_found"
    message = "未找到该电话联系任务"


class CallTaskClosed(RuleViolation):
    code = "notifications.call_closed"
    message = "该电话联系任务已处理"


def _insert(table):
    dialect = db.session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)


def _unread(delivery):
    """The delivery's inbox entry exists and is unread (a correlated condition)."""
    return exists().where(
        InboxMessage.notification_id == delivery.notification_id,
        InboxMessage.veteran_id == delivery.veteran_id,
        InboxMessage.read_at.is_(None),
    )


def _add_tasks(reason, conditions, now):
    """INSERT … SELECT the missing tasks of `reason` for deliveries matching `conditions`. Returns how many."""
    tasks = CallTask.__table__
    source = (
        select(
            Delivery.veteran_id,
            Veteran.station_id,
            Delivery.notification_id,
            Delivery.id,
            literal(reason),
            literal("open"),
            literal(now, tasks.c.created_at.type),
        )
        .join(Notification, Notification.id == Delivery.notification_id)
        .join(Veteran, Veteran.id == Delivery.veteran_id)
        .where(
            Notification.follow_up.is_(True),
            Notification.started_at >= now - timedelta(days=WINDOW_DAYS),
            *conditions,
            ~exists().where(tasks.c.delivery_id == Delivery.id),
        )
    )
    columns = ["veteran_id", "station_id", "notification_id", "delivery_id", "reason", "status", "created_at"]
    statement = (
        _insert(tasks).from_select(columns, source).on_conflict_do_nothing(index_elements=["delivery_id"])
    ).returning(tasks.c.id)
    return len(db.session.execute(statement).all())


def build(now=None):
    """Bring the call list up to date (the beat task notifications.build_call_list). Idempotent.

    :returns: {"unbound": tasks added, "unread": tasks added, "closed": tasks closed because the message was read}
    """
    now = now or utcnow()
    cutoff = now - timedelta(days=current_app.config["NOTIFY_CALL_AFTER_DAYS"])
    with transaction():
        unbound = _add_tasks(
            "unbound",
            (
                Notification.status == "done",
                Delivery.status == "skipped",
                Delivery.skip_reason == "not_bound",
                _unread(Delivery),
            ),
            now,
        )
        arrived_unread = exists().where(
            InboxMessage.notification_id == Delivery.notification_id,
            InboxMessage.veteran_id == Delivery.veteran_id,
            InboxMessage.read_at.is_(None),
            InboxMessage.created_at <= cutoff,
        )
        push_missed = or_(
            Delivery.status.in_(("failed", "skipped")),
            and_(Delivery.status == "sent", Delivery.result.in_(("fail", "refused"))),
        )
        unread = _add_tasks(
            "unread",
            (
                arrived_unread,
                push_missed,
                or_(Delivery.skip_reason.is_(None), Delivery.skip_reason != "not_bound"),
            ),
            now,
        )
        read = exists().where(
            InboxMessage.notification_id == CallTask.notification_id,
            InboxMessage.veteran_id == CallTask.veteran_id,
            or_(
                InboxMessage.acknowledged_at.is_not(None),
                and_(CallTask.reason != "unacked", InboxMessage.read_at.is_not(None)),
            ),
        )
        closed = db.session.execute(
            update(CallTask)
            .where(CallTask.status == "open", read)
            .values(status="done", outcome="read", handled_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount
    return {"unbound": unbound, "unread": unread, "closed": closed}


@dataclass
class TaskRow:
    task: CallTask
    veteran: Veteran
    station: str
    title: str
    days_waiting: int

    @property
    def reason_label(self):
        return REASON_LABELS.get(self.task.reason, self.task.reason)


def list_open(*, actor, after=None, limit=50, now=None):
    """Open tasks of veterans in the actor's subtree, oldest first, keyset by task id.

    :returns: (rows [TaskRow], next_after or None)
    :raises PermissionDenied:
    """
    require_permission(actor, "notifications.calls")
    now = now or utcnow()
    query = (
        select(CallTask, Veteran, OrgUnit.name, Notification.title)
        .join(Veteran, Veteran.id == CallTask.veteran_id)
        .join(OrgUnit, OrgUnit.id == CallTask.station_id)
        .join(Notification, Notification.id == CallTask.notification_id)
        .where(CallTask.status == "open", *path_range(actor.scope_path))
    )
    if after:
        query = query.where(CallTask.id > after)
    found = db.session.execute(query.order_by(CallTask.id).limit(limit + 1)).all()
    rows = [TaskRow(t, v, station, title, max((now - t.created_at).days, 0)) for t, v, station, title in found]
    return rows[:limit], (rows[limit - 1].task.id if len(rows) > limit else None)


def count_open(*, actor):
    """How many open tasks the actor's subtree has (for a badge); 0 without the permission."""
    if not actor.can("notifications.calls"):
        return 0
    query = select(func.count()).select_from(CallTask).join(Veteran, Veteran.id == CallTask.veteran_id)
    return db.session.scalar(query.where(CallTask.status == "open", *path_range(actor.scope_path)))


def get_task(*, actor, task_id, lock=False):
    """The task if its veteran lies in the actor's subtree. :raises PermissionDenied, CallTaskNotFound:"""
    require_permission(actor, "notifications.calls")
    query = (
        select(CallTask)
        .join(Veteran, Veteran.id == CallTask.veteran_id)
        .where(CallTask.id == task_id, *path_range(actor.scope_path))
    )
    if lock:
        query = query.with_for_update(of=CallTask)
    task = db.session.scalars(query).first()
    if task is None:
        if denials.exists(CallTask, task_id):
            raise denials.mark(CallTaskNotFound(), object_type="call_task", object_id=task_id)
        raise CallTaskNotFound()
    return task


def record_outcome(*, actor, task_id, outcome, note=""):
    """Close an open task with the call's outcome and an optional note; audited.

    :raises PermissionDenied, CallTaskNotFound, ValidationFailed (unknown outcome, note too long),
        CallTaskClosed (already handled)
    """
    note = clean_name(_CONTROL.sub("", note if isinstance(note, str) else "")) or None
    with transaction():
        task = get_task(actor=actor, task_id=task_id, lock=True)  # out of scope: not found, whatever was posted
        if outcome not in OUTCOME_LABELS:
            raise ValidationFailed(details={"outcome": "请选择联系结果"})
        if note and len(note) > NOTE_MAX:
            raise ValidationFailed(details={"note": f"备注不超过{NOTE_MAX}个字"})
        if task.status != "open":
            raise CallTaskClosed()
        task.status, task.outcome, task.note = "done", outcome, note
        task.handled_by_id, task.handled_at = actor.id, utcnow()
        audit_service.record(
            actor=actor,
            action="notifications.call_outcome",
            object_type="call_task",
            object_id=task.id,
            details={"outcome": outcome, "veteran_id": task.veteran_id},
        )
    return task


def reveal_phone(*, actor, task_id):
    """The full phone number of the task's veteran, for the person making the call; one audit row per reveal (as
    backend/veterans/service.reveal_veteran). :returns: the phone or None.
    :raises PermissionDenied, CallTaskNotFound:
    """
    with transaction():
        task = get_task(actor=actor, task_id=task_id)
        audit_service.record(
            actor=actor,
            action="notifications.call_reveal",
            object_type="veteran",
            object_id=task.veteran_id,
            details={"call_task_id": task.id},
        )
        veteran = db.session.get(Veteran, task.veteran_id)
    return veteran.phone
