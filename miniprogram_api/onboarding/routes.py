"""GET /onboarding: a newly placed veteran's reception checklist (issue 17, Art. 7) with what to bring to each step.

Only the checklist: step, state and dates. Staff names, notes, coordination records and proof files stay on the
staff side (they may name other people or carry personal details)."""

from types import SimpleNamespace

import marshmallow as ma
from flask_smorest import Blueprint

from backend.onboarding import rules, steps
from miniprogram_api.docs import VETERAN_ERRORS, errors
from miniprogram_api.security import current_veteran_id

bp = Blueprint("onboarding", __name__, description="接收安置")


class OnboardingStepSchema(ma.Schema):
    code = ma.fields.String(
        attribute="step",
        required=True,
        metadata={
            "description": "party_transfer 党员组织关系转接 | check_in 报到 | hukou 落户 | social_insurance 社会保险 | "
            "housing_fund 住房公积金 | reserve 预备役登记 | bank_account 开立退役金账户 | archive_intake 档案接收 | "
            "welcome_ceremony 欢迎仪式"
        },
    )
    name = ma.fields.Function(lambda s: rules.STEP_LABELS[s.step], required=True, metadata={"description": "事项名称"})
    state = ma.fields.String(required=True, metadata={"description": "pending | in_progress | done | not_applicable"})
    state_label = ma.fields.Function(lambda s: rules.STATE_LABELS[s.state], required=True)
    required = ma.fields.Boolean(required=True, metadata={"description": "是否必办（非党员无需党员组织关系转接）"})
    due_on = ma.fields.Date(allow_none=True, required=True, metadata={"description": "应办日期"})
    done_on = ma.fields.Date(allow_none=True, required=True, metadata={"description": "完成日期"})
    what_to_bring = ma.fields.Function(
        lambda s: rules.WHAT_TO_BRING[s.step], required=True, metadata={"description": "需携带的材料"}
    )


class OnboardingCaseSchema(ma.Schema):
    status = ma.fields.String(required=True, metadata={"description": "open 办理中 | closed 已办结"})
    status_label = ma.fields.Function(lambda c: rules.STATUS_LABELS[c.status], required=True)
    arrived_on = ma.fields.Date(required=True, metadata={"description": "到达报到日期"})
    closed_on = ma.fields.Date(allow_none=True, required=True, metadata={"description": "办结（安置）日期"})
    party_member = ma.fields.Boolean(required=True, metadata={"description": "党员须先转接组织关系再报到"})
    steps = ma.fields.List(ma.fields.Nested(OnboardingStepSchema), required=True)


class OnboardingChecklistSchema(ma.Schema):
    case = ma.fields.Nested(
        OnboardingCaseSchema, allow_none=True, required=True, metadata={"description": "无记录时为 null"}
    )


@bp.route("/onboarding", methods=["GET"])
@bp.response(200, OnboardingChecklistSchema)
@errors(bp, *VETERAN_ERRORS)
def checklist():
    """本人的接收安置清单：各事项的状态、应办和完成日期、需携带的材料；尚未建立时 case 为 null。"""
    case, items = steps.own_checklist(current_veteran_id())
    if case is None:
        return {"case": None}
    fields = ("status", "arrived_on", "closed_on", "party_member")
    return {"case": SimpleNamespace(steps=items, **{k: getattr(case, k) for k in fields})}
