"""Message kinds and the subscribe-message templates they go out with.

An inbox message has a fine-grained kind (registration.returned); a template serves a family of kinds
(registration_result). The system administrator maps each template key to a WeChat template in the portal.
"""

TEMPLATE_KEYS = {
    "care": "关爱通知",
    "registration_result": "年度确认审核结果",
    "registration_reminder": "年度确认办理提醒",
    "talk": "约谈通知",
    "travel_overdue": "出境逾期未归提醒",
    "booking_reminder": "预约服务提醒",
    "booking_cancelled": "预约取消通知",
}

# inbox kind -> template key
KIND_TEMPLATE = {
    "care": "care",
    "registration.approved": "registration_result",
    "registration.returned": "registration_result",
    "registration.opening": "registration_reminder",
    "registration.closing": "registration_reminder",
    "registration.talk": "talk",
    "travel.overdue": "travel_overdue",
    "booking.reminder": "booking_reminder",
    "booking.cancelled": "booking_cancelled",
    "invitation": "care",  # issue 17, Art. 11: ceremony invitations go out with the generic care card
}

KIND_LABELS = {
    "care": "关爱通知",
    "registration.approved": "年度确认审核通过",
    "registration.returned": "年度确认退回补正",
    "registration.opening": "年度确认开始提醒",
    "registration.closing": "年度确认截止提醒",
    "registration.talk": "约谈通知",
    "travel.overdue": "出境逾期未归提醒",
    "booking.reminder": "预约服务提醒",
    "booking.cancelled": "预约取消通知",
    "invitation": "庆典仪式邀请",  # issue 17, Art. 11
    "education": "教育提醒",  # issue 19 (Art. 5): inbox only (no WeChat template), acknowledged on the phone
    "feedback.prompt": "服务评价提醒",  # issue 20: inbox only (no WeChat template)
    "feedback.case": "投诉与评价办理进展",  # issue 20: inbox only
}

# issue 19: kinds whose inbox entries ask for 「我已阅读并知悉」 (POST /inbox/{id}/acknowledge)
ACK_KINDS = frozenset({"education"})

# Kinds whose silent failure matters: an unread inbox entry after N days (or no WeChat binding) puts the veteran on
# the station's call list. Reminders sent to everyone are left out, or the list would drown.
FOLLOW_UP_KINDS = frozenset({"care", "registration.returned", "registration.talk", "travel.overdue"})

DELIVERY_STATUS_LABELS = {
    "queued": "排队中",
    "sending": "发送中",
    "sent": "已推送",
    "failed": "推送失败",
    "skipped": "仅站内信",
}
SKIP_REASON_LABELS = {
    "no_credit": "未订阅或次数已用完",
    "not_bound": "未绑定微信",
    "refused": "用户已拒收",
    "no_template": "该类消息无微信模板",
}
RESULT_LABELS = {"success": "微信已送达", "fail": "微信下发失败", "refused": "用户拒收"}
NOTIFICATION_STATUS_LABELS = {
    "draft": "草稿",
    "pending_approval": "待审批",
    "scheduled": "定时待发",
    "sending": "发送中",
    "done": "已完成",
    "cancelled": "已取消",
    "rejected": "审批未通过",
}


def template_key(kind):
    return KIND_TEMPLATE.get(kind)


def requires_ack(kind):
    """Whether inbox entries of `kind` ask the veteran to acknowledge them (education reminders)."""
    return kind in ACK_KINDS
