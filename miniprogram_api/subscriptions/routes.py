"""GET /subscriptions, POST /subscriptions."""

import marshmallow as ma
from flask_smorest import Blueprint

from backend.subscriptions import service as subscriptions_service
from miniprogram_api.docs import TOKEN_ERRORS, errors
from miniprogram_api.security import current_account

bp = Blueprint("subscriptions", __name__, description="订阅消息")


class ReportSchema(ma.Schema):
    results = ma.fields.Dict(
        keys=ma.fields.String(validate=ma.validate.Length(min=1, max=64)),
        values=ma.fields.String(validate=ma.validate.OneOf(["accept", "reject", "ban", "filter"])),
        required=True,
        validate=ma.validate.Length(max=10),
        metadata={"description": "wx.requestSubscribeMessage 的结果：{模板ID: accept|reject|ban|filter}"},
    )


class KindSchema(ma.Schema):
    key = ma.fields.String(required=True, metadata={"description": "消息类别，如 care、registration.returned"})
    label = ma.fields.String(required=True)


class TemplateStatusSchema(ma.Schema):
    kind = ma.fields.String(required=True)
    title = ma.fields.String(required=True)
    template_id = ma.fields.String(required=True)
    long_term = ma.fields.Boolean(required=True)
    credits = ma.fields.Integer(required=True, metadata={"description": "一次性订阅剩余可推送次数"})
    can_push = ma.fields.Boolean(required=True)
    kinds = ma.fields.List(
        ma.fields.Nested(KindSchema), required=True, metadata={"description": "经此模板推送的消息类别"}
    )
    needs_resubscribe = ma.fields.Boolean(
        required=True, metadata={"description": "需提示重新订阅：一次性订阅已无次数或已拒收；长期订阅未授权"}
    )


class StatusListSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(TemplateStatusSchema), required=True)
    resubscribe = ma.fields.List(
        ma.fields.String(),
        required=True,
        validate=ma.validate.Length(max=3),
        metadata={"description": "下次调用 wx.requestSubscribeMessage 应传入的模板ID，按顺序，最多3个"},
    )


def _status(statuses):
    return {"items": statuses, "resubscribe": subscriptions_service.resubscribe_ids(statuses)}


@bp.route("/subscriptions", methods=["GET"])
@bp.response(200, StatusListSchema)
@errors(bp, *TOKEN_ERRORS)
def list_subscriptions():
    """各类通知当前能否通过微信推送，用于提示重新订阅。"""
    return _status(subscriptions_service.list_status(account=current_account()))


@bp.route("/subscriptions", methods=["POST"])
@bp.arguments(ReportSchema)
@bp.response(200, StatusListSchema)
@errors(bp, *TOKEN_ERRORS)
def report(payload):
    """上报订阅弹窗结果；每次 accept 记一次可推送额度。"""
    return _status(subscriptions_service.report_results(account=current_account(), results=payload["results"]))
