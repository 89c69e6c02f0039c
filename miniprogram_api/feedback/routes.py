"""GET /feedback/pending, POST /feedback (好差评, once per service event); GET /complaints/targets, GET/POST
/complaints and POST /complaints/{id}/attachments (投诉与建议, Art. 24)."""

import marshmallow as ma
from flask import request
from flask_smorest import Blueprint

from backend.feedback import complaints, pending, ratings, rules
from backend.feedback.models import COMPLAINT_KINDS, SCORES, SUBJECTS
from backend.registration.windows import CST
from miniprogram_api.docs import VETERAN_ERRORS, errors
from miniprogram_api.security import audit_actor, current_veteran_id

bp = Blueprint("feedback", __name__, description="评价与投诉建议")

ID = {"validate": ma.validate.Range(min=1, max=2**62)}
SUBJECT_DOC = "booking 预约服务 | registration 年度确认 | assistance 帮扶援助 | contact 常态化联系 | visit 走访慰问"


def _cst(moment):
    return moment.astimezone(CST).isoformat() if moment else None


class PendingEventSchema(ma.Schema):
    subject = ma.fields.String(required=True, metadata={"description": SUBJECT_DOC})
    subject_id = ma.fields.Integer(required=True)
    subject_label = ma.fields.Function(lambda e: rules.SUBJECT_LABELS[e.subject], required=True)
    title = ma.fields.String(required=True)
    date = ma.fields.Date(attribute="on", required=True)


class PendingSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(PendingEventSchema), required=True)
    scores = ma.fields.Dict(
        keys=ma.fields.String(), values=ma.fields.String(), required=True, metadata={"description": "评价等级 5..1"}
    )


class RatingRequestSchema(ma.Schema):
    subject = ma.fields.String(
        required=True, validate=ma.validate.OneOf(SUBJECTS), metadata={"description": SUBJECT_DOC}
    )
    subject_id = ma.fields.Integer(required=True, strict=True, **ID)
    score = ma.fields.Integer(
        required=True,
        strict=True,
        validate=ma.validate.Range(min=1, max=5),
        metadata={"description": "5 非常满意 | 4 满意 | 3 基本满意 | 2 不满意 | 1 非常不满意"},
    )
    comment = ma.fields.String(load_default=None, allow_none=True, validate=ma.validate.Length(max=rules.COMMENT_MAX))


class RatingSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    subject = ma.fields.String(required=True)
    subject_id = ma.fields.Integer(required=True)
    score = ma.fields.Integer(required=True)
    score_label = ma.fields.Function(lambda r: SCORES[r.score], required=True)
    followed_up = ma.fields.Boolean(
        required=True, metadata={"description": "不满意及以下：已转上级单位办理，将与您联系并回访"}
    )
    created_at = ma.fields.Function(lambda r: _cst(r.created_at), required=True)


class TargetSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    name = ma.fields.String(required=True)


class TargetsSchema(ma.Schema):
    units = ma.fields.List(ma.fields.Nested(TargetSchema), required=True, metadata={"description": "本人服务站在前"})
    staff = ma.fields.List(ma.fields.Nested(TargetSchema), required=True, metadata={"description": "仅姓名"})


class ComplaintRequestSchema(ma.Schema):
    kind = ma.fields.String(
        required=True,
        validate=ma.validate.OneOf(COMPLAINT_KINDS),
        metadata={"description": "complaint 投诉 | suggestion 建议"},
    )
    about = ma.fields.String(
        load_default="unit",
        validate=ma.validate.OneOf(("unit", "staff")),
        metadata={"description": "unit 服务单位（默认本人服务站）| staff 工作人员（从 /complaints/targets 中选择）"},
    )
    unit_id = ma.fields.Integer(load_default=None, allow_none=True, strict=True, **ID)
    staff_id = ma.fields.Integer(load_default=None, allow_none=True, strict=True, **ID)
    text = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=rules.TEXT_MAX))
    subject = ma.fields.String(load_default=None, allow_none=True, validate=ma.validate.OneOf(SUBJECTS))
    subject_id = ma.fields.Integer(load_default=None, allow_none=True, strict=True, **ID)


class ComplaintFileSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    display_name = ma.fields.String(required=True)
    content_type = ma.fields.String(required=True)
    size = ma.fields.Integer(required=True)


def _state(row):
    return row[1] if isinstance(row, tuple | list) or hasattr(row, "_fields") else complaints.state_of(row.id)


def _complaint(row):
    return row[0] if isinstance(row, tuple | list) or hasattr(row, "_fields") else row


class ComplaintSchema(ma.Schema):
    id = ma.fields.Function(lambda r: _complaint(r).id, required=True)
    kind = ma.fields.Function(lambda r: _complaint(r).kind, required=True)
    kind_label = ma.fields.Function(lambda r: rules.KIND_LABELS[_complaint(r).kind], required=True)
    about = ma.fields.Function(lambda r: "staff" if _complaint(r).staff_id else "unit", required=True)
    text = ma.fields.Function(lambda r: complaints.text_of(_complaint(r)), required=True)
    state = ma.fields.Function(
        _state, allow_none=True, metadata={"description": "open | contacted | resolved | closed"}
    )
    state_label = ma.fields.Function(lambda r: rules.PHONE_STATE_LABELS.get(_state(r), "已提交"), required=True)
    attachments = ma.fields.Function(
        lambda r: ComplaintFileSchema(many=True).dump(complaints.attachments_of(_complaint(r).id)), required=True
    )
    created_at = ma.fields.Function(lambda r: _cst(_complaint(r).created_at), required=True)


class ComplaintPageSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(ComplaintSchema), required=True)
    next_cursor = ma.fields.Integer(allow_none=True, required=True)


class ComplaintPageArgsSchema(ma.Schema):
    cursor = ma.fields.Integer(load_default=None, **ID)
    limit = ma.fields.Integer(load_default=20, validate=ma.validate.Range(min=1, max=50))


class ComplaintUploadSchema(ma.Schema):
    file = ma.fields.Raw(
        required=True, metadata={"type": "string", "format": "binary", "description": "JPG、PNG 或 PDF，不超过5MB"}
    )


@bp.route("/feedback/pending", methods=["GET"])
@bp.response(200, PendingSchema)
@errors(bp, *VETERAN_ERRORS)
def list_pending():
    """近90天内可评价、尚未评价的服务（已办结的预约、已通过的年度确认、已办结的帮扶、常态化联系、走访慰问）。"""
    items = pending.pending(current_veteran_id())
    return {"items": items, "scores": {str(k): v for k, v in SCORES.items()}}


@bp.route("/feedback", methods=["POST"])
@bp.arguments(RatingRequestSchema)
@bp.response(201, RatingSchema)
@errors(bp, *VETERAN_ERRORS, "feedback.event_not_found", "feedback.already_rated")
def rate(payload):
    """评价一项本人的服务，每项服务只能评价一次；不满意及以下将转上级单位办理并回访。"""
    current_veteran_id()
    rating, case = ratings.rate(account=audit_actor(), **payload)
    rating.followed_up = case is not None
    return rating


@bp.route("/complaints/targets", methods=["GET"])
@bp.response(200, TargetsSchema)
@errors(bp, *VETERAN_ERRORS)
def list_targets():
    """可以反映的对象：为本人服务过的服务站和工作人员（仅姓名）。"""
    units, people = pending.targets(current_veteran_id())
    return {
        "units": [{"id": k, "name": v} for k, v in units.items()],
        "staff": [{"id": k, "name": v} for k, v in people.items()],
    }


@bp.route("/complaints", methods=["GET"])
@bp.arguments(ComplaintPageArgsSchema, location="query")
@bp.response(200, ComplaintPageSchema)
@errors(bp, *VETERAN_ERRORS)
def list_complaints(args):
    """本人的投诉与建议及办理进度，按提交时间倒序。"""
    rows, next_cursor = complaints.list_own(veteran_id=current_veteran_id(), **args)
    return {"items": rows, "next_cursor": next_cursor}


@bp.route("/complaints", methods=["POST"])
@bp.arguments(ComplaintRequestSchema)
@bp.response(201, ComplaintSchema)
@errors(bp, *VETERAN_ERRORS, "feedback.target_invalid", "feedback.event_not_found")
def submit_complaint(payload):
    """提交投诉或建议（对服务单位或为您服务过的工作人员）；附件另行上传。上级单位将在5个工作日内办理并回复。"""
    current_veteran_id()
    complaint, _case = complaints.submit(account=audit_actor(), **payload)
    return complaint


@bp.route("/complaints/<id:complaint_id>/attachments", methods=["POST"])
@bp.arguments(ComplaintUploadSchema, location="files")
@bp.response(201, ComplaintFileSchema)
@errors(
    bp,
    *VETERAN_ERRORS,
    "feedback.complaint_not_found",
    "feedback.invalid_state",
    "feedback.attachment_rejected",
    "feedback.too_many_attachments",
    "request.too_large",
    "files.scan_unavailable",
)
def upload_attachment(files, complaint_id):
    """上传投诉建议的附件（multipart/form-data：file），办结前可补充。按文件内容校验类型，文件名由服务器生成。"""
    current_veteran_id()
    upload = files["file"]
    return complaints.add_attachment(
        account=audit_actor(),
        complaint_id=complaint_id,
        filename=getattr(upload, "filename", None),
        data=upload.read(complaints.MAX_BYTES + 1),
    )


@bp.before_request
def raise_upload_limit():
    """Attachments may carry up to 5 MB; every other request keeps the 1 MB body limit."""
    if request.endpoint == "feedback.upload_attachment":
        request.max_content_length = complaints.MAX_BYTES + 64 * 1024
