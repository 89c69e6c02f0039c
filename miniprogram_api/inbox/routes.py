"""GET /inbox, GET /inbox/{id}, GET /inbox/unread-count, POST /inbox/{id}/read, POST /inbox/{id}/acknowledge."""

import marshmallow as ma
from flask_smorest import Blueprint

from backend.inbox import service as inbox_service
from miniprogram_api.docs import VETERAN_ERRORS, errors
from miniprogram_api.security import current_veteran_id

bp = Blueprint("inbox", __name__, description="消息")


class MessageSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    kind = ma.fields.String(required=True)
    kind_label = ma.fields.String(required=True, metadata={"description": "消息类别名称，如 关爱通知"})
    sender_unit = ma.fields.String(
        required=True, allow_none=True, metadata={"description": "发送单位名称（关爱通知等）；系统消息为 null"}
    )
    title = ma.fields.String(required=True)
    body = ma.fields.String(required=True)
    link = ma.fields.String(allow_none=True)
    created_at = ma.fields.AwareDateTime(required=True)
    read_at = ma.fields.AwareDateTime(allow_none=True)
    requires_ack = ma.fields.Boolean(
        required=True, metadata={"description": "是否需要确认「我已阅读并知悉」（政治教育、保密提醒）"}
    )
    acknowledged_at = ma.fields.AwareDateTime(
        required=True, allow_none=True, metadata={"description": "确认知悉的时间；未确认或无需确认为 null"}
    )


class PageArgsSchema(ma.Schema):
    cursor = ma.fields.Integer(load_default=None, validate=ma.validate.Range(min=1, max=2**62))
    limit = ma.fields.Integer(load_default=20, validate=ma.validate.Range(min=1, max=100))


class MessagePageSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(MessageSchema), required=True)
    next_cursor = ma.fields.Integer(allow_none=True, required=True)


class UnreadSchema(ma.Schema):
    unread = ma.fields.Integer(required=True)


@bp.route("/inbox", methods=["GET"])
@bp.arguments(PageArgsSchema, location="query")
@bp.response(200, MessagePageSchema)
@errors(bp, *VETERAN_ERRORS)
def list_inbox(args):
    """消息列表，按时间倒序，游标分页。"""
    items, next_cursor = inbox_service.list_inbox(veteran_id=current_veteran_id(), **args)
    return {"items": items, "next_cursor": next_cursor}


@bp.route("/inbox/unread-count", methods=["GET"])
@bp.response(200, UnreadSchema)
@errors(bp, *VETERAN_ERRORS)
def unread_count():
    """未读消息数。"""
    return {"unread": inbox_service.unread_count(veteran_id=current_veteran_id())}


@bp.route("/inbox/<id:message_id>", methods=["GET"])
@bp.response(200, MessageSchema)
@errors(bp, *VETERAN_ERRORS, "inbox.not_found")
def get_message(message_id):
    """查看一条消息；打开即标记为已读。"""
    return inbox_service.open_message(veteran_id=current_veteran_id(), message_id=message_id)


@bp.route("/inbox/<id:message_id>/read", methods=["POST"])
@bp.response(200, MessageSchema)
@errors(bp, *VETERAN_ERRORS, "inbox.not_found")
def mark_read(message_id):
    """标记为已读（重复调用无副作用）。"""
    return inbox_service.mark_read(veteran_id=current_veteran_id(), message_id=message_id)


@bp.route("/inbox/<id:message_id>/acknowledge", methods=["POST"])
@bp.response(200, MessageSchema)
@errors(bp, *VETERAN_ERRORS, "inbox.not_found", "inbox.ack_not_required")
def acknowledge(message_id):
    """确认「我已阅读并知悉」（仅限 requires_ack 为 true 的消息，如政治教育、保密提醒）。

    同时标记为已读；重复调用返回首次确认的时间，无副作用。无需确认的消息返回 409 inbox.ack_not_required。
    """
    return inbox_service.acknowledge(veteran_id=current_veteran_id(), message_id=message_id)
