"""GET /invitations, GET /invitations/{id}, POST /invitations/{id}/rsvp: the veteran's invitations to ceremonies and
celebrations and their reply (issue 17, Art. 11)."""

import marshmallow as ma
from flask_smorest import Blueprint

from backend.honors import invitations, rules
from miniprogram_api.docs import VETERAN_ERRORS, errors
from miniprogram_api.security import audit_actor, current_veteran_id

bp = Blueprint("honors", __name__, description="荣誉与仪式")

ID = {"validate": ma.validate.Range(min=1, max=2**62)}


def _cst(moment):
    return rules.cst(moment).isoformat() if moment else None


class InvitationSchema(ma.Schema):
    """One [invitation, ceremony] pair (a list: a tuple returned by a view would read as (body, status))."""

    id = ma.fields.Function(lambda r: r[0].id, required=True)
    status = ma.fields.Function(
        lambda r: r[0].status,
        required=True,
        metadata={"description": "invited 待回复 | accepted 参加 | declined 不参加"},
    )
    status_label = ma.fields.Function(lambda r: rules.RSVP_LABELS[r[0].status], required=True)
    guests = ma.fields.Function(lambda r: r[0].guests, required=True, metadata={"description": "随行人数（0至3）"})
    responded_at = ma.fields.Function(lambda r: _cst(r[0].responded_at), allow_none=True)
    recorded_by_staff = ma.fields.Function(
        lambda r: r[0].recorded_by_id is not None, required=True, metadata={"description": "回复是否由工作人员代为登记"}
    )
    kind = ma.fields.Function(
        lambda r: r[1].kind, required=True, metadata={"description": "welcome 欢迎仪式 | celebration 重大庆典"}
    )
    kind_label = ma.fields.Function(lambda r: rules.KIND_LABELS[r[1].kind], required=True)
    level = ma.fields.Function(lambda r: r[1].level, allow_none=True, metadata={"description": "national | local"})
    title = ma.fields.Function(lambda r: r[1].title, required=True)
    held_at = ma.fields.Function(lambda r: _cst(r[1].held_at), required=True, metadata={"description": "活动时间"})
    place = ma.fields.Function(lambda r: r[1].place, required=True)
    rsvp_by = ma.fields.Function(
        lambda r: r[1].rsvp_by.isoformat() if r[1].rsvp_by else None,
        allow_none=True,
        metadata={"description": "回复截止日期（北京时间，当日24时止）；为空时至活动开始"},
    )
    reply_open = ma.fields.Function(
        lambda r: r[1].kind == "celebration" and rules.reply_open(r[1]),
        required=True,
        metadata={"description": "现在是否还可以回复或更改回复"},
    )


class InvitationDetailSchema(InvitationSchema):
    attendees = ma.fields.Function(
        lambda r: r[1].attendees, allow_none=True, metadata={"description": "出席领导和嘉宾"}
    )
    note = ma.fields.Function(lambda r: r[1].note, allow_none=True)


class InvitationPageSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(InvitationSchema), required=True)
    next_cursor = ma.fields.Integer(allow_none=True, required=True)


class InvitationPageArgsSchema(ma.Schema):
    cursor = ma.fields.Integer(load_default=None, **ID)
    limit = ma.fields.Integer(load_default=20, validate=ma.validate.Range(min=1, max=50))


class RsvpSchema(ma.Schema):
    attending = ma.fields.Boolean(required=True, truthy={True}, falsy={False}, metadata={"description": "是否参加"})
    guests = ma.fields.Integer(
        load_default=0,
        strict=True,
        validate=ma.validate.Range(min=0, max=rules.MAX_GUESTS),
        metadata={"description": "随行人数（0至3；不参加时忽略）"},
    )


@bp.route("/invitations", methods=["GET"])
@bp.arguments(InvitationPageArgsSchema, location="query")
@bp.response(200, InvitationPageSchema)
@errors(bp, *VETERAN_ERRORS)
def list_invitations(args):
    """本人收到的仪式和庆典邀请，按邀请时间倒序。"""
    rows, next_cursor = invitations.list_own(veteran_id=current_veteran_id(), **args)
    return {"items": rows, "next_cursor": next_cursor}


@bp.route("/invitations/<id:invitation_id>", methods=["GET"])
@bp.response(200, InvitationDetailSchema)
@errors(bp, *VETERAN_ERRORS, "honors.not_found")
def get_invitation(invitation_id):
    """本人的一份邀请：活动时间、地点、出席嘉宾和本人的回复。"""
    return list(invitations.get_own(veteran_id=current_veteran_id(), invitation_id=invitation_id))  # not (body, status)


@bp.route("/invitations/<id:invitation_id>/rsvp", methods=["POST"])
@bp.arguments(RsvpSchema)
@bp.response(200, InvitationDetailSchema)
@errors(bp, *VETERAN_ERRORS, "request.invalid", "honors.not_found", "honors.rsvp_closed")
def rsvp(payload, invitation_id):
    """回复是否参加及随行人数；回复截止日期（北京时间当日24时）或活动开始前可以更改。同样的回复重复提交无副作用。"""
    current_veteran_id()
    return list(invitations.rsvp(account=audit_actor(), invitation_id=invitation_id, **payload))
