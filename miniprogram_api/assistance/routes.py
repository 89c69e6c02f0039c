"""GET/POST /assistance, GET /assistance/{id}, POST /assistance/{id}/attachments: hardship assistance (帮扶援助)."""

import marshmallow as ma
from flask import request
from flask_smorest import Blueprint

from backend.assistance import attachments, rules
from backend.assistance import service as assistance_service
from backend.assistance.models import CATEGORIES, MAX_AMOUNT_FEN
from backend.registration.windows import CST
from miniprogram_api.docs import VETERAN_ERRORS, errors
from miniprogram_api.security import audit_actor, current_veteran_id

bp = Blueprint("assistance", __name__, description="帮扶援助")

ID = {"validate": ma.validate.Range(min=1, max=2**62)}


def _cst(moment):
    return moment.astimezone(CST).isoformat() if moment else None


class CaseRequestSchema(ma.Schema):
    category = ma.fields.String(
        required=True,
        validate=ma.validate.OneOf(CATEGORIES),
        metadata={
            "description": "serious_illness 重大疾病 | accident 意外事故 | disaster 自然灾害 | "
            "family_emergency 家庭突发困难 | other 其他"
        },
    )
    description = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=2000))
    requested_amount_fen = ma.fields.Integer(
        load_default=None,
        allow_none=True,
        strict=True,
        validate=ma.validate.Range(min=0, max=MAX_AMOUNT_FEN),
        metadata={"description": "申请金额（分），可不填"},
    )


class CaseEventSchema(ma.Schema):
    action = ma.fields.String(required=True)
    label = ma.fields.Function(lambda e: rules.ACTION_LABELS[e.action], required=True)
    status = ma.fields.String(attribute="to_status", required=True)
    occurred_at = ma.fields.Function(lambda e: _cst(e.occurred_at), required=True)


class ProofSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    display_name = ma.fields.String(required=True)
    content_type = ma.fields.String(required=True)
    size = ma.fields.Integer(required=True)


class CaseSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    category = ma.fields.String(required=True)
    category_label = ma.fields.Function(lambda c: rules.CATEGORY_LABELS[c.category], required=True)
    status = ma.fields.String(
        required=True,
        metadata={"description": "submitted | under_review | recommended | approved | rejected | paid | closed"},
    )
    status_label = ma.fields.Function(lambda c: rules.STATUS_LABELS[c.status], required=True)
    requested_amount_fen = ma.fields.Integer(allow_none=True)
    approved_amount_fen = ma.fields.Function(
        lambda c: c.approved_amount_fen if c.status in rules.ACTIVE else None, allow_none=True
    )
    paid_amount_fen = ma.fields.Integer(allow_none=True)
    paid_on = ma.fields.Date(allow_none=True)
    reject_reason = ma.fields.String(allow_none=True)
    created_at = ma.fields.Function(lambda c: _cst(c.created_at), required=True)


class CaseDetailSchema(CaseSchema):
    description = ma.fields.Function(lambda c: assistance_service.unseal(c, "description"), required=True)
    timeline = ma.fields.Function(
        lambda c: CaseEventSchema(many=True).dump(assistance_service.timeline(c.id)), required=True
    )
    attachments = ma.fields.Function(
        lambda c: ProofSchema(many=True).dump(assistance_service.attachments_of(c.id)), required=True
    )


class CasePageSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(CaseSchema), required=True)
    next_cursor = ma.fields.Integer(allow_none=True, required=True)


class CasePageArgsSchema(ma.Schema):
    cursor = ma.fields.Integer(load_default=None, **ID)
    limit = ma.fields.Integer(load_default=20, validate=ma.validate.Range(min=1, max=50))


class ProofFileSchema(ma.Schema):
    file = ma.fields.Raw(
        required=True, metadata={"type": "string", "format": "binary", "description": "JPG、PNG 或 PDF，不超过5MB"}
    )


@bp.route("/assistance", methods=["GET"])
@bp.arguments(CasePageArgsSchema, location="query")
@bp.response(200, CasePageSchema)
@errors(bp, *VETERAN_ERRORS)
def list_cases(args):
    """本人的帮扶申请，按提交时间倒序。"""
    rows, next_cursor = assistance_service.list_own_cases(veteran_id=current_veteran_id(), **args)
    return {"items": rows, "next_cursor": next_cursor}


@bp.route("/assistance", methods=["POST"])
@bp.arguments(CaseRequestSchema)
@bp.response(201, CaseDetailSchema)
@errors(bp, *VETERAN_ERRORS)
def submit_case(payload):
    """申请帮扶：困难类别、情况说明（健康等信息加密保存）、申请金额（可选）；证明材料另行上传。"""
    current_veteran_id()
    return assistance_service.submit_case(account=audit_actor(), **payload)


@bp.route("/assistance/<id:case_id>", methods=["GET"])
@bp.response(200, CaseDetailSchema)
@errors(bp, *VETERAN_ERRORS, "assistance.not_found")
def get_case(case_id):
    """本人的一份帮扶申请及其办理进度。"""
    return assistance_service.get_own_case(veteran_id=current_veteran_id(), case_id=case_id)


@bp.route("/assistance/<id:case_id>/attachments", methods=["POST"])
@bp.arguments(ProofFileSchema, location="files")
@bp.response(201, ProofSchema)
@errors(
    bp,
    *VETERAN_ERRORS,
    "assistance.not_found",
    "assistance.invalid_state",
    "assistance.attachment_rejected",
    "assistance.too_many_attachments",
    "request.too_large",
    "files.scan_unavailable",
)
def upload_attachment(files, case_id):
    """上传证明材料（multipart/form-data：file），仅在服务站推荐或作出决定前。按文件内容校验类型，文件名由服务器生成。"""
    current_veteran_id()
    upload = files["file"]
    return attachments.add_attachment(
        account=audit_actor(),
        case_id=case_id,
        filename=getattr(upload, "filename", None),
        data=upload.read(attachments.MAX_BYTES + 1),
    )


@bp.before_request
def raise_upload_limit():
    """Proof uploads may carry up to 5 MB; every other request keeps the 1 MB body limit."""
    if request.endpoint == "assistance.upload_attachment":
        request.max_content_length = attachments.MAX_BYTES + 64 * 1024
