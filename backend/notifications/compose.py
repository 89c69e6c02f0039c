"""Care notifications composed by staff: drafts, preview, send now or at a time, the four-eyes rule, cancel.

Status: draft → pending_approval (more than NOTIFY_APPROVAL_THRESHOLD recipients) → scheduled | sending → done;
rejected by the approver; cancelled until sending starts. Every change of status is a conditional UPDATE on the
status it leaves, so a race with the pipeline's start_due (scheduled → sending) has exactly one winner: a cancelled
or edited notification never starts, and a started one can no longer be cancelled. Editing sends a notification back
to draft: it is submitted (and, over the threshold, approved) again.
"""

import re
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import select, update

from backend.audit.service import record
from backend.db import transaction, utcnow
from backend.errors import NotFound, RuleViolation, ValidationFailed
from backend.extensions import db
from backend.notifications import dispatch, recipients, render
from backend.notifications.events import current_version
from backend.notifications.models import MessageTemplateVersion, Notification
from backend.orgs.models import OrgUnit
from backend.orgs.scope import get_scoped, require_permission, scoped

EDITABLE = ("draft", "pending_approval", "scheduled", "rejected")
CANCELLABLE = ("draft", "pending_approval", "scheduled")
MAX_UPLOAD_BYTES = 2 * 1024 * 1024
MAX_AHEAD = timedelta(days=366)
ID_TOKEN = re.compile(r"[0-9]{17}[0-9Xx]|[0-9Xx]{6,}")


class NotificationNotFound(NotFound):
    code = "notifications.not_found"
    message = "未找到该通知"


class NotEditable(RuleViolation):
    code = "notifications.not_editable"
    message = "该通知已开始发送或已结束，不能再进行此操作"


class SelfApproval(RuleViolation):
    code = "notifications.self_approval"
    message = "不能审批自己编写的通知，请由另一位有审批权限的人员审批"


def get_notification(*, actor, notification_id, permission="notifications.view"):
    """A notification whose sender unit lies in the actor's subtree. :raises PermissionDenied, NotificationNotFound:"""
    require_permission(actor, permission)
    return get_scoped(
        Notification,
        notification_id,
        actor=actor,
        unit_column=Notification.sender_unit_id,
        not_found=NotificationNotFound,
    )


@dataclass
class Page:
    rows: list
    next_after: int | None
    prev_before: int | None


def list_notifications(*, actor, after=None, before=None, limit=30):
    """Notifications sent from the actor's subtree, newest first, keyset-paginated on id (no OFFSET, no COUNT)."""
    require_permission(actor, "notifications.view")
    query = scoped(select(Notification), actor, Notification.sender_unit_id)
    if before:
        rows = db.session.scalars(
            query.where(Notification.id > before).order_by(Notification.id).limit(limit + 1)
        ).all()
        has_newer = len(rows) > limit
        rows = list(reversed(rows[:limit]))
        if not rows:
            return list_notifications(actor=actor, limit=limit)
        return Page(rows, rows[-1].id, rows[0].id if has_newer else None)
    if after:
        query = query.where(Notification.id < after)
    rows = db.session.scalars(query.order_by(Notification.id.desc()).limit(limit + 1)).all()
    has_older = len(rows) > limit
    rows = rows[:limit]
    return Page(rows, rows[-1].id if has_older else None, rows[0].id if (after and rows) else None)


# --- recipients from the form


def id_numbers_from_upload(filename, content):
    """The ID-number-like tokens of an uploaded .txt, .csv or .xlsx list. :raises ValidationFailed:"""
    name = (filename or "").lower()
    if not content:
        return []
    if len(content) > MAX_UPLOAD_BYTES:
        raise ValidationFailed(details={"file": "文件过大（不超过 2MB）"})
    if name.endswith(".xlsx"):
        from backend.veterans.importer import _open  # the import's hardened opener (zip bomb, DTD)

        book = _open(content)
        cells = []
        for row in book.worksheets[0].iter_rows(values_only=True):
            cells.extend(str(v) for v in row if v is not None)
            if len(cells) > recipients.MAX_IDS * 4:
                break
        return tokens(" ".join(cells))
    if name.endswith((".txt", ".csv")):
        for encoding in ("utf-8-sig", "gb18030"):
            try:
                text = content.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
        else:
            raise ValidationFailed(details={"file": "无法识别文件编码，请另存为 UTF-8"})
        return tokens(text)  # a .csv's quotes and commas are no part of an ID number
    raise ValidationFailed(details={"file": "请上传 .txt、.csv 或 .xlsx 文件"})


def tokens(text):
    return ID_TOKEN.findall(text or "")


# --- drafts


def save_draft(*, actor, notification_id=None, title, body, audience, pick_ids=(), id_numbers=()):
    """Create a draft, or edit one that has not started (it goes back to draft). Returns (notification, upload).

    `audience` is the raw filter ({} for picks only); `pick_ids` are veteran ids from the search; `id_numbers` the
    typed or uploaded numbers. `upload` counts the numbers matched, not found or outside the scope, and malformed.
    :raises PermissionDenied, NotificationNotFound, NotEditable, ValidationFailed, OrgUnitNotFound:
    """
    require_permission(actor, "notifications.send")
    title, body = (title or "").strip(), (body or "").strip()
    render.check_body(title, body)
    if len(title) > 100 or len(body) > 2000:
        raise ValidationFailed(details={"body": "标题不超过 100 字，内容不超过 2000 字"})
    clean = recipients.clean_audience(actor, audience)
    matched, upload = recipients.resolve_id_numbers(actor, id_numbers)
    picks = sorted(set(recipients.scoped_veteran_ids(actor, pick_ids)) | set(matched))
    if not clean and not picks:
        raise ValidationFailed(details={"recipients": "请选择收件人：按条件筛选，或勾选、上传名单"})
    version = current_version("care")
    fields = dict(
        title=title,
        body=body,
        audience=clean,
        template_version_id=version.id if version else None,
    )
    with transaction():
        if notification_id is None:
            notification = Notification(
                kind="care",
                source="staff",
                sender_unit_id=actor.org_unit_id,
                created_by_id=actor.id,
                status="draft",
                follow_up=True,
                **fields,
            )
            db.session.add(notification)
            db.session.flush()
            action = "notifications.draft_created"
        else:
            notification = get_notification(actor=actor, notification_id=notification_id)
            _transition(
                notification, EDITABLE, status="draft", approval_needed=False, approved_by_id=None, approved_at=None
            )
            db.session.execute(update(Notification).where(Notification.id == notification.id).values(**fields))
            action = "notifications.draft_updated"
        recipients.replace_picks(notification.id, picks)
        record(
            actor=actor,
            action=action,
            object_type="notification",
            object_id=notification.id,
            details={"picks": len(picks), "audience": sorted(clean), **{f"upload_{k}": v for k, v in upload.items()}},
        )
    db.session.refresh(notification)
    return notification, upload


def _transition(notification, from_statuses, **values):
    """Move the notification on only if its status is still one of `from_statuses`. :raises NotEditable:"""
    result = db.session.execute(
        update(Notification)
        .where(Notification.id == notification.id, Notification.status.in_(from_statuses))
        .values(**values, updated_at=utcnow(), version_id=Notification.version_id + 1)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise NotEditable()


# --- preview


@dataclass
class Preview:
    count: int
    push: int
    sample: object  # the veteran the texts are rendered for, or None
    inbox_title: str
    inbox_text: str
    card: dict | None  # render.card: {template_id, page, data}, or None when the kind has no WeChat template
    card_labels: dict  # WeChat key -> its label, for the visual card

    @property
    def inbox_only(self):
        return max(self.count - self.push, 0)


def _sender_unit(notification):
    return db.session.get(OrgUnit, notification.sender_unit_id) if notification.sender_unit_id else None


def values_for(notification, veteran, *, when=None):
    """The variables of one recipient: the shared ones plus 姓名 and 服务站."""
    unit = _sender_unit(notification)
    values = render.common_values(
        title=notification.title,
        sender_unit=unit.name if unit else None,
        when=when or notification.scheduled_at or utcnow(),
        extra=notification.variables,
    )
    if veteran is not None:
        values.update({"姓名": veteran.name, "服务站": veteran.station.name if veteran.station else ""})
    return values


def preview(*, actor, notification):
    """The counts (as of now, within the sender's scope) and the exact texts for a sample recipient."""
    require_permission(actor, "notifications.view")
    unit = _sender_unit(notification) or actor.org_unit
    version = db.session.get(MessageTemplateVersion, notification.template_version_id or 0)  # 0: none
    wechat_id = version.wechat_template_id if version else None
    total = recipients.count(unit, notification.audience, notification_id=notification.id)
    push = recipients.push_count(
        unit, notification.audience, wechat_template_id=wechat_id, notification_id=notification.id
    )
    sample = recipients.sample_recipient(unit, notification.audience, notification_id=notification.id)
    values = values_for(notification, sample)
    card = render.card(version, values) if wechat_id else None
    labels = {f.get("key"): f.get("label", "") for f in (version.fields or [])} if version else {}
    return Preview(
        count=total,
        push=push,
        sample=sample,
        inbox_title=render.fill(notification.title, values),
        inbox_text=render.fill(notification.body, values),
        card=card,
        card_labels=labels,
    )


# --- submit, approve, reject, cancel


def submit(*, actor, notification_id, send_at=None, now=None):
    """Send a draft now or at `send_at` (aware UTC, in the future); over the threshold it waits for approval.

    :raises PermissionDenied, NotificationNotFound, NotEditable, ValidationFailed:
    """
    require_permission(actor, "notifications.send")
    now = now or utcnow()
    if send_at is not None and not now < send_at <= now + MAX_AHEAD:
        raise ValidationFailed(details={"send_at": "定时发送时间应在现在之后、一年以内"})
    with transaction():
        notification = get_notification(actor=actor, notification_id=notification_id)
        unit = _sender_unit(notification)
        total = recipients.count(unit, notification.audience, notification_id=notification.id)
        if total == 0:
            raise ValidationFailed(details={"recipients": "没有符合条件的收件人"})
        needs_approval = total > current_app.config["NOTIFY_APPROVAL_THRESHOLD"]
        if needs_approval:
            status = "pending_approval"
        else:
            status = "scheduled" if send_at else "sending"
        values = dict(status=status, scheduled_at=send_at, approval_needed=needs_approval, recipient_count=total)
        if status == "sending":
            values["started_at"] = now
        _transition(notification, ("draft",), **values)
        if status == "sending":
            dispatch.start_after_commit(notification.id)
        record(
            actor=actor,
            action="notifications.submitted",
            object_type="notification",
            object_id=notification.id,
            org_path=unit.path if unit else None,
            details={"status": status, "recipients": total, "scheduled": bool(send_at)},
        )
    db.session.refresh(notification)
    return notification


def is_author(notification, actor):
    """四眼原则: whoever created, edited or submitted it (the audit log says) is no second person for it."""
    from backend.audit.models import AuditLog

    if notification.created_by_id == actor.id:
        return True
    wrote = select(AuditLog.id).where(
        AuditLog.object_type == "notification",
        AuditLog.object_id == str(notification.id),
        AuditLog.action.in_(("notifications.draft_created", "notifications.draft_updated", "notifications.submitted")),
        AuditLog.actor_type == "staff",
        AuditLog.actor_id == actor.id,
    )
    return db.session.scalar(wrote.limit(1)) is not None


def approve(*, actor, notification_id, now=None):
    """四眼原则: another person with notifications.approve whose subtree holds the sender unit lets it go.

    :raises PermissionDenied, NotificationNotFound, SelfApproval, NotEditable:
    """
    require_permission(actor, "notifications.approve")
    now = now or utcnow()
    with transaction():
        notification = get_notification(
            actor=actor, notification_id=notification_id, permission="notifications.approve"
        )
        if is_author(notification, actor):
            raise SelfApproval()
        scheduled = notification.scheduled_at is not None and notification.scheduled_at > now
        values = dict(status="scheduled" if scheduled else "sending", approved_by_id=actor.id, approved_at=now)
        if not scheduled:
            values.update(started_at=now, scheduled_at=None)
        _transition(notification, ("pending_approval",), **values)
        if not scheduled:
            dispatch.start_after_commit(notification.id)
        record(
            actor=actor,
            action="notifications.approved",
            object_type="notification",
            object_id=notification.id,
            details={"status": values["status"], "recipients": notification.recipient_count},
        )
    db.session.refresh(notification)
    return notification


def reject(*, actor, notification_id, reason):
    """The approver turns it down with a reason (kept in the audit log). :raises …, ValidationFailed:"""
    require_permission(actor, "notifications.approve")
    reason = " ".join((reason or "").split())[:200]
    if not reason:
        raise ValidationFailed(details={"reason": "请填写不通过的原因"})
    with transaction():
        notification = get_notification(
            actor=actor, notification_id=notification_id, permission="notifications.approve"
        )
        if is_author(notification, actor):
            raise SelfApproval()
        _transition(notification, ("pending_approval",), status="rejected")
        record(
            actor=actor,
            action="notifications.rejected",
            object_type="notification",
            object_id=notification.id,
            details={"reason": reason},
        )
    db.session.refresh(notification)
    return notification


def cancel(*, actor, notification_id):
    """Cancel before sending starts (draft, pending approval or scheduled). :raises …, NotEditable:"""
    require_permission(actor, "notifications.send")
    with transaction():
        notification = get_notification(actor=actor, notification_id=notification_id)
        _transition(notification, CANCELLABLE, status="cancelled", finished_at=utcnow())
        record(actor=actor, action="notifications.cancelled", object_type="notification", object_id=notification.id)
    db.session.refresh(notification)
    return notification


def rejection_reason(notification):
    """The reason of the latest rejection (from the audit log), or None."""
    if notification.status != "rejected":
        return None
    from backend.audit.models import AuditLog

    row = db.session.scalars(
        select(AuditLog)
        .where(
            AuditLog.object_type == "notification",
            AuditLog.object_id == str(notification.id),
            AuditLog.action == "notifications.rejected",
        )
        .order_by(AuditLog.id.desc())
        .limit(1)
    ).first()
    return (row.details or {}).get("reason") if row else None
