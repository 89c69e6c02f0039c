"""GET /pension: the veteran's current retirement pay, the last 12 payments, the reason if suspended (issue 18)."""

import marshmallow as ma
from flask_smorest import Blueprint

from backend.pension import accounts, amounts, profile, rules
from backend.pension.money import fen_to_yuan
from miniprogram_api.docs import VETERAN_ERRORS, errors
from miniprogram_api.security import current_veteran_id

bp = Blueprint("pension", __name__, description="退役金")

PENDING_MESSAGE = "您的退役金尚未起发或尚未设定标准。如有疑问，请联系所在服务站。"
FAILED_REASON = "银行退回，请核对收款账户信息或联系所在服务站"


def _yuan(fen):
    return fen_to_yuan(fen, grouping=False)


class ComponentSchema(ma.Schema):
    component = ma.fields.String(required=True, metadata={"description": "base | allowance | adjustment"})
    label = ma.fields.String(required=True)
    amount_fen = ma.fields.Integer(required=True)
    amount_yuan = ma.fields.String(required=True, metadata={"description": "元，两位小数，如 3500.00"})
    funding = ma.fields.String(required=True, metadata={"description": "central | local"})
    funding_label = ma.fields.String(required=True)


class PaymentSchema(ma.Schema):
    month = ma.fields.String(required=True, metadata={"description": "YYYY-MM"})
    net_fen = ma.fields.Integer(required=True)
    net_yuan = ma.fields.String(required=True)
    back_pay_fen = ma.fields.Integer(required=True, metadata={"description": "其中补发（分）"})
    status = ma.fields.String(
        required=True,
        metadata={"description": "pending | paid | failed | suspended (a month held at 0 by a suspension)"},
    )
    status_label = ma.fields.String(required=True)
    reason = ma.fields.String(allow_none=True, required=True, metadata={"description": "发放失败的原因"})


class ReasonSchema(ma.Schema):
    code = ma.fields.String(allow_none=True, required=True)
    label = ma.fields.String(allow_none=True, required=True)
    message = ma.fields.String(allow_none=True, required=True)


class AccountSchema(ma.Schema):
    bank = ma.fields.String(required=True)
    last4 = ma.fields.String(required=True, metadata={"description": "账号后四位"})


class PensionSchema(ma.Schema):
    state = ma.fields.String(required=True, metadata={"description": "pending | active | suspended | stopped"})
    state_label = ma.fields.String(required=True)
    since = ma.fields.Date(allow_none=True, required=True)
    reason = ma.fields.Nested(ReasonSchema, allow_none=True, required=True)
    message = ma.fields.String(allow_none=True, required=True, metadata={"description": "未起发时的提示"})
    month = ma.fields.String(required=True, metadata={"description": "当前月份 YYYY-MM"})
    monthly_fen = ma.fields.Integer(required=True)
    monthly_yuan = ma.fields.String(required=True)
    components = ma.fields.List(ma.fields.Nested(ComponentSchema), required=True)
    payments = ma.fields.List(ma.fields.Nested(PaymentSchema), required=True, metadata={"description": "最近12次"})
    account = ma.fields.Nested(AccountSchema, allow_none=True, required=True)


def pension_of(veteran_id):
    """The phone's view of one veteran's pay (their own; nothing of anyone else is read)."""
    pay = profile.profile_of(veteran_id)
    month = profile.this_month()
    components = amounts.components_of(veteran_id, month)
    state = pay.state if pay else "pending"
    items = [
        {
            "component": c,
            "label": rules.COMPONENT_LABELS[c],
            "amount_fen": fen,
            "amount_yuan": _yuan(fen),
            "funding": funding,
            "funding_label": rules.FUNDING_LABELS[funding],
        }
        for c, (fen, funding) in sorted(components.items(), key=lambda kv: amounts.COMPONENTS.index(kv[0]))
    ]
    total = sum(item["amount_fen"] for item in items)
    account = accounts.account_of(veteran_id)
    return {
        "state": state,
        "state_label": rules.STATE_LABELS[state],
        "since": pay.state_since if pay else None,
        "reason": rules.veteran_message(pay),
        "message": PENDING_MESSAGE if state == "pending" or (state == "active" and not items) else None,
        "month": month.strftime("%Y-%m"),
        "monthly_fen": total,
        "monthly_yuan": _yuan(total),
        "components": items,
        "payments": [
            {
                "month": run_month.strftime("%Y-%m"),
                "net_fen": line.net_fen,
                "net_yuan": _yuan(line.net_fen),
                "back_pay_fen": line.back_pay_fen or 0,
                "status": _status(line),
                "status_label": rules.LINE_STATUS_LABELS[_status(line)],
                "reason": (line.bank_reason or FAILED_REASON) if line.status == "failed" else None,
            }
            for line, run_month in profile.last_lines(veteran_id, confirmed_only=True)
        ],
        "account": {"bank": account.bank, "last4": account.account_last4} if account else None,
    }


def _status(line):
    """A month held at 0 by a suspension is "suspended" (暂停发放), never left "pending" at the bank."""
    return "suspended" if line.held and "suspended" in (line.exceptions or []) else line.status


@bp.route("/pension", methods=["GET"])
@bp.response(200, PensionSchema)
@errors(bp, *VETERAN_ERRORS)
def get_pension():
    """本人的退役金：当月标准及构成、发放状态（暂停或停发时的原因）、最近12次发放及结果、收款账户（仅显示后四位）。
    尚未起发时 state 为 pending，并给出提示 message。"""
    return pension_of(current_veteran_id())
