"""Feedback's errors, labels and the working-day clock (China's calendar: statutory holidays off, 调休 make-up days
on; nationwide corrections entered for the booking calendar count too)."""

from datetime import timedelta

from flask import current_app
from sqlalchemy import select

from backend.errors import NotFound, RuleViolation, ValidationFailed
from backend.extensions import db

SUBJECT_LABELS = {
    "booking": "预约服务",
    "registration": "年度确认",
    "assistance": "帮扶援助",
    "contact": "常态化联系",
    "visit": "走访慰问",
}
KIND_LABELS = {"complaint": "投诉", "suggestion": "建议"}
STATE_LABELS = {"open": "待办理", "contacted": "已联系", "resolved": "已处理待回访", "closed": "已办结"}
# What the veteran reads on the phone (plain words)
PHONE_STATE_LABELS = {
    "open": "已受理，正在办理",
    "contacted": "工作人员已与您联系，正在处理",
    "resolved": "已处理，将回访征求您的意见",
    "closed": "已办结",
}
REVISIT_LABELS = {"satisfied": "满意", "unsatisfied": "不满意", "unreachable": "联系不上"}
EVENT_LABELS = {
    "opened": "立案",
    "assigned": "指派办理人",
    "contacted": "联系本人",
    "resolved": "办理完毕",
    "revisited": "回访",
    "escalated": "逾期/不满意，上报上级",
    "reopened": "回访不满意，重新办理",
    "closed": "办结",
}
COMMENT_MAX = 300
TEXT_MAX = 1000
NOTE_MAX = 1000
PENDING_DAYS = 90  # events of the last 90 days may be rated
TARGET_DAYS = 365  # staff who served the veteran within a year may be complained about


class EventNotFound(NotFound):
    code = "feedback.event_not_found"
    message = "未找到可评价的服务记录"


class AlreadyRated(RuleViolation):
    code = "feedback.already_rated"
    message = "您已评价过这项服务，每项服务只能评价一次"


class TargetInvalid(ValidationFailed):
    code = "feedback.target_invalid"
    message = "请选择为您服务过的服务站或工作人员"


class ComplaintNotFound(NotFound):
    code = "feedback.complaint_not_found"
    message = "未找到该投诉建议"


class CaseNotFound(NotFound):
    code = "feedback.case_not_found"
    message = "未找到该办理事项"


class CaseStateInvalid(RuleViolation):
    code = "feedback.invalid_state"
    message = "该事项当前状态不允许此操作，请刷新后重试"


class SubjectCannotHandle(RuleViolation):
    code = "feedback.subject_cannot_handle"
    message = "被投诉人不能办理针对本人的投诉"


class AssigneeInvalid(ValidationFailed):
    code = "feedback.assignee_invalid"
    message = "只能指派给承办单位中有办理权限的工作人员（被投诉人除外）"


class AttachmentRejected(ValidationFailed):
    code = "feedback.attachment_rejected"
    message = "仅支持 JPG、PNG 图片或 PDF 文件，单个不超过5MB"


class TooManyAttachments(RuleViolation):
    code = "feedback.too_many_attachments"
    message = "每件投诉建议最多上传5个附件"


class AttachmentNotFound(NotFound):
    code = "feedback.attachment_not_found"
    message = "未找到该附件"


def score_label(score):
    from backend.feedback.models import SCORES

    return SCORES.get(score, "")


# --- working days


def is_working_day(day, nation=None):
    from backend.bookings.calendar import library_open

    if nation is not None and day in nation:
        return nation[day]
    return library_open(day)


def _nationwide(first, last):
    from backend.bookings.models import CalendarDay

    rows = db.session.execute(
        select(CalendarDay.day, CalendarDay.open).where(
            CalendarDay.unit_id.is_(None), CalendarDay.day.between(first, last)
        )
    )
    return dict(rows.all())


def add_working_days(start, count):
    """The `count`-th working day after `start` (a CST date; `start` itself is not counted)."""
    nation = _nationwide(start, start + timedelta(days=count * 3 + 30))
    day, left = start, count
    while left > 0:
        day += timedelta(days=1)
        if is_working_day(day, nation):
            left -= 1
    return day


def working_days_until(start, end):
    """Working days after `start` up to and including `end` (0 when end <= start)."""
    if end <= start:
        return 0
    nation = _nationwide(start, end)
    day, count = start, 0
    while day < end:
        day += timedelta(days=1)
        count += is_working_day(day, nation)
    return count


def setting(name):
    """A feedback setting: the app's config when set there (tests, deployments), else config/feedback.py (env)."""
    from config.feedback import FeedbackSettings

    return current_app.config.get(name, getattr(FeedbackSettings, name))


def due_days():
    return setting("FEEDBACK_DUE_WORKING_DAYS")
