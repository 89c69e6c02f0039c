"""The rules of the reception one-stop (Art. 7): labels, what to bring, which state changes are allowed, the errors."""

from backend.errors import NotFound, RuleViolation, ValidationFailed

STEP_LABELS = {
    "party_transfer": "党员组织关系转接",
    "check_in": "报到",
    "hukou": "落户",
    "social_insurance": "社会保险关系转移接续",
    "housing_fund": "住房公积金转移接续",
    "reserve": "预备役登记",
    "bank_account": "开立退役金发放账户",
    "archive_intake": "人事档案接收",
    "welcome_ceremony": "欢迎仪式",
}
STATE_LABELS = {"pending": "待办理", "in_progress": "办理中", "done": "已完成", "not_applicable": "不适用"}
STATUS_LABELS = {"open": "办理中", "closed": "已办结"}
EVENT_LABELS = {
    "opened": "建立接收安置",
    "state": "状态变更",
    "coordination": "登记协调情况",
    "attachment": "上传证明材料",
    "closed": "办结",
}
# What the veteran brings to each step (shown on the phone; no personal data).
WHAT_TO_BRING = {
    "party_transfer": "党员组织关系介绍信（纸质或网上转接回执）、身份证",
    "check_in": "安置通知书（介绍信）、身份证、退役证、近期免冠照片2张",
    "hukou": "户口迁移证（或准予迁入证明）、安置通知书、身份证、退役证",
    "social_insurance": "部队开具的养老、医疗保险关系转移接续凭证，身份证",
    "housing_fund": "部队住房公积金转移凭证、身份证",
    "reserve": "身份证、退役证、近期免冠照片",
    "bank_account": "身份证、本人手机（用于接收验证码）",
    "archive_intake": "无需携带，档案由原部队机要寄送至服务中心",
    "welcome_ceremony": "按服务站通知的时间地点参加，无需携带材料",
}
# Steps done by other departments: their coordination is recorded (models.COORDINATED); these are done elsewhere
# in the system (archives intake, the welcome ceremony form) but may still be marked by hand.
# party_transfer: completing an inbound transfer under 党员管理 (backend/party) completes it; never check_in, whose
# Art. 7 rule is checked on the case page.
LINKED = ("party_transfer", "archive_intake", "welcome_ceremony")
# from state -> the states a person may move a step to
MOVES = {
    "pending": ("in_progress", "done"),
    "in_progress": ("pending", "done"),
    "done": ("in_progress",),  # done by mistake: back with a note saying why
}
SUMMARY_MAX = 500
NOTE_MAX = 500


class CaseNotFound(NotFound):
    code = "onboarding.not_found"
    message = "未找到该接收安置记录"


class AlreadyOpen(RuleViolation):
    code = "onboarding.already_open"
    message = "该退役军人已有接收安置记录"


class StepStateInvalid(RuleViolation):
    code = "onboarding.invalid_state"
    message = "该事项当前状态不能进行此操作，请刷新后查看最新进度"


class TransferFirst(RuleViolation):
    code = "onboarding.transfer_first"
    message = "该退役军人是党员，须先完成党员组织关系转接，再办理报到"


class StepsOpen(RuleViolation):
    code = "onboarding.steps_open"
    message = "还有必办事项未完成，不能办结"


class AttachmentRejected(ValidationFailed):
    code = "onboarding.attachment_rejected"
    message = "仅支持 JPG、PNG 图片或 PDF 文件，单个不超过5MB"


class TooManyAttachments(RuleViolation):
    code = "onboarding.too_many_attachments"
    message = "每个办理事项最多上传10个证明材料"


class AttachmentNotFound(NotFound):
    code = "onboarding.attachment_not_found"
    message = "未找到该证明材料"


def check_move(case, item, to_state, steps, note):
    """Refuse a change the rules do not allow. `steps` is {code: OnboardingStep} of the case.

    :raises StepStateInvalid, TransferFirst, ValidationFailed:
    """
    if case.status != "open":
        raise StepStateInvalid("该接收安置已办结，不能再修改", details={"status": case.status})
    if to_state not in MOVES.get(item.state, ()):
        raise StepStateInvalid(details={"state": item.state, "to": to_state})
    if item.state == "done" and not note:
        raise ValidationFailed(details={"note": "撤回已完成的事项须说明原因"})
    transfer = steps.get("party_transfer")
    if item.step == "check_in" and to_state in ("in_progress", "done"):
        if transfer is not None and transfer.required and transfer.state != "done":
            raise TransferFirst(details={"step": "party_transfer", "state": transfer.state})
    if item.step == "party_transfer" and item.state == "done":
        check_in = steps.get("check_in")
        if check_in is not None and check_in.state in ("in_progress", "done"):
            raise StepStateInvalid("报到已在办理或已完成，不能撤回党员组织关系转接", details={"step": "check_in"})


def open_required(steps):
    """The required steps not done yet, in checklist order."""
    return [s for s in steps if s.required and s.state != "done"]
