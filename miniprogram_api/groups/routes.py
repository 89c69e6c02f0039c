"""GET /groups/mine: the self-service groups (自我服务小组) the veteran leads, with members and recent activities."""

import marshmallow as ma
from flask_smorest import Blueprint

from backend.groups import service as groups_service
from miniprogram_api.docs import VETERAN_ERRORS, errors
from miniprogram_api.security import current_veteran_id

bp = Blueprint("groups", __name__, description="自我服务小组")


class MemberSchema(ma.Schema):
    name = ma.fields.String(required=True)
    phone = ma.fields.String(allow_none=True, metadata={"description": "手机号（已隐去中间四位）"})
    leader = ma.fields.Boolean(required=True, metadata={"description": "是否带头人"})


class ActivitySchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    date = ma.fields.Function(lambda a: a.held_on.isoformat(), required=True, metadata={"description": "活动日期"})
    title = ma.fields.String(required=True)
    notes = ma.fields.String(allow_none=True)
    participants = ma.fields.Integer(required=True, metadata={"description": "参加人数"})


class GroupSchema(ma.Schema):
    id = ma.fields.Function(lambda r: r["group"].id, required=True)
    name = ma.fields.Function(lambda r: r["group"].name, required=True)
    station_name = ma.fields.String(required=True)
    members = ma.fields.List(ma.fields.Nested(MemberSchema), required=True)
    activities = ma.fields.List(ma.fields.Nested(ActivitySchema), required=True, metadata={"description": "最近活动"})


class GroupListSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(GroupSchema), required=True)


@bp.route("/groups/mine", methods=["GET"])
@bp.response(200, GroupListSchema)
@errors(bp, *VETERAN_ERRORS)
def my_groups():
    """本人担任带头人的自我服务小组：成员（姓名、隐去中间四位的手机号）和最近活动；不是带头人时为空列表。"""
    return {"items": groups_service.groups_led_by(veteran_id=current_veteran_id())}
