"""The rules of hardship assistance: labels, errors, limits (caps per case and per veteran per CST year, four eyes
above a threshold) and the warning when the veteran was helped within the last months."""

from datetime import datetime, time, timedelta

from flask import current_app
from sqlalchemy import func, select

from backend.assistance.models import AssistanceCase
from backend.errors import NotFound, RuleViolation, ValidationFailed
from backend.extensions import db
from backend.registration.windows import CST, today_cst

CATEGORY_LABELS = {
    "serious_illness": "重大疾病",
    "accident": "意外事故",
    "disaster": "自然灾害",
    "family_emergency": "家庭突发困难",
    "other": "其他",
}
STATUS_LABELS = {
    "submitted": "已提交",
    "under_review": "服务站受理审核中",
    "recommended": "服务站已推荐，待服务中心审批",
    "approved": "已批准，待发放",
    "rejected": "未获批准",
    "paid": "已发放",
    "closed": "已办结",
}
ACTION_LABELS = {**STATUS_LABELS, "first_approval": "第一审批人已同意，待第二审批人审批"}
FUNDING_LABELS = {"central": "中央资金", "local": "地方资金"}
CHANNEL_LABELS = {"phone": "小程序申请", "counter": "窗口代为申请", "visit": "走访中发现"}
# who may take each step: (from statuses, permission)
STEPS = {
    "under_review": (("submitted",), "assistance.review"),
    "recommended": (("under_review",), "assistance.review"),
    "rejected": (("submitted", "under_review", "recommended"), None),  # review before, approve once recommended
    "approved": (("recommended",), "assistance.approve"),
    "paid": (("approved",), "assistance.approve"),
    "closed": (("paid",), "assistance.review"),
}
ACTIVE = ("approved", "paid", "closed")  # cases whose money counts toward the yearly cap


class CaseNotFound(NotFound):
    code = "assistance.not_found"
    message = "未找到该帮扶申请"


class CaseStateInvalid(RuleViolation):
    code = "assistance.invalid_state"
    message = "该帮扶申请当前状态不能进行此操作，请刷新后查看最新进度"


class CaseCapExceeded(RuleViolation):
    code = "assistance.case_cap_exceeded"
    message = "金额超过单次帮扶上限"


class YearCapExceeded(RuleViolation):
    code = "assistance.year_cap_exceeded"
    message = "金额超过该退役军人本年度帮扶上限"


class SecondApproverRequired(RuleViolation):
    code = "assistance.second_approver_required"
    message = "金额超过审批限额，须由另一位有审批权限的工作人员再次审批"


class OverPayment(RuleViolation):
    code = "assistance.overpaid"
    message = "发放金额不能超过批准金额"


def yuan(fen):
    """'1,234.50' for 123450 fen (display only; amounts are stored and computed in fen)."""
    return None if fen is None else f"{fen // 100:,}.{fen % 100:02d}"


def parse_yuan(raw, field="amount", required=True):
    """Fen (int) from a typed amount in yuan ('1234.5'); never through a float. :raises ValidationFailed:"""
    text = (raw or "").strip().replace(",", "").replace("，", "")
    if not text:
        if required:
            raise ValidationFailed(details={field: "请填写金额"})
        return None
    whole, _, part = text.partition(".")
    if not whole.isdigit() or (part and not part.isdigit()) or len(part) > 2 or len(whole) > 9:
        raise ValidationFailed(details={field: "金额格式不正确（单位：元，最多两位小数）"})
    fen = int(whole) * 100 + int((part + "00")[:2])
    if fen <= 0:
        raise ValidationFailed(details={field: "金额须大于0"})
    return fen


def case_cap():
    return current_app.config["ASSISTANCE_CASE_CAP_FEN"]


def year_cap():
    return current_app.config["ASSISTANCE_YEAR_CAP_FEN"]


def four_eyes_above():
    return current_app.config["ASSISTANCE_FOUR_EYES_ABOVE_FEN"]


def needs_second_approver(amount_fen):
    return amount_fen > four_eyes_above()


def _year_bounds(year):
    first = datetime.combine(datetime(year, 1, 1).date(), time(0), tzinfo=CST)
    return first, datetime.combine(datetime(year + 1, 1, 1).date(), time(0), tzinfo=CST)


def granted_in_year(veteran_id, year, *, exclude_id=None):
    """Fen granted to the veteran in CST year `year` (approved, paid or closed; the paid amount once paid)."""
    first, last = _year_bounds(year)
    query = select(
        func.coalesce(func.sum(func.coalesce(AssistanceCase.paid_amount_fen, AssistanceCase.approved_amount_fen)), 0)
    ).where(
        AssistanceCase.veteran_id == veteran_id,
        AssistanceCase.status.in_(ACTIVE),
        AssistanceCase.approved_at >= first,
        AssistanceCase.approved_at < last,
    )
    if exclude_id is not None:
        query = query.where(AssistanceCase.id != exclude_id)
    return int(db.session.scalar(query) or 0)


def check_caps(case, amount_fen, now=None):
    """:raises CaseCapExceeded, YearCapExceeded: (the caller holds the veteran's row lock)"""
    if amount_fen > case_cap():
        raise CaseCapExceeded(
            f"金额超过单次帮扶上限（{yuan(case_cap())}元）", details={"cap_fen": case_cap(), "amount_fen": amount_fen}
        )
    year = today_cst(now).year
    used = granted_in_year(case.veteran_id, year, exclude_id=case.id)
    if used + amount_fen > year_cap():
        left = max(year_cap() - used, 0)
        raise YearCapExceeded(
            f"该退役军人{year}年已获帮扶{yuan(used)}元，本年度上限{yuan(year_cap())}元，最多还可批准{yuan(left)}元",
            details={"cap_fen": year_cap(), "used_fen": used, "left_fen": left},
        )


def recent_help(veteran_id, *, exclude_id=None, now=None):
    """Cases of the veteran granted within the last ASSISTANCE_RECENT_MONTHS months (the repeat-help warning)."""
    months = current_app.config["ASSISTANCE_RECENT_MONTHS"]
    since = datetime.combine(today_cst(now) - timedelta(days=round(months * 365 / 12)), time(0), tzinfo=CST)
    query = select(AssistanceCase).where(
        AssistanceCase.veteran_id == veteran_id,
        AssistanceCase.status.in_(ACTIVE),
        AssistanceCase.approved_at >= since,
    )
    if exclude_id is not None:
        query = query.where(AssistanceCase.id != exclude_id)
    return db.session.scalars(query.order_by(AssistanceCase.approved_at.desc())).all()
