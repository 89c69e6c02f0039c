"""GET/PUT/DELETE /registrations/current, POST /registrations/current/submit, GET /registrations."""

from flask import request
from flask_smorest import Blueprint

from backend.registration import attachments
from backend.registration import service as registration_service
from miniprogram_api.docs import VETERAN_ERRORS, errors
from miniprogram_api.registration.schemas import (
    AttachmentSchema,
    CurrentSchema,
    DraftSchema,
    PastListSchema,
    PastPageArgsSchema,
    UploadFileSchema,
    UploadFormSchema,
)
from miniprogram_api.security import current_account, current_veteran

bp = Blueprint("registration", __name__, description="年度确认登记")


def _current():
    return registration_service.current_view(veteran=current_veteran())


@bp.route("/registrations/current", methods=["GET"])
@bp.response(200, CurrentSchema)
@errors(bp, *VETERAN_ERRORS)
def get_current():
    """本年度登记：办理时间、状态、内容（按上年度和出入境记录预填）、需补正的内容。"""
    return _current()


@bp.route("/registrations/current", methods=["PUT"])
@bp.arguments(DraftSchema)
@bp.response(200, CurrentSchema)
@errors(bp, *VETERAN_ERRORS, "registration.window_closed", "registration.not_editable", "request.invalid")
def save_draft(payload):
    """保存草稿（办理时间内随时可保存；退回后只能修改被退回的登记项）。"""
    registration_service.save_draft(account=current_account(), content=payload["content"])
    return _current()


@bp.route("/registrations/current", methods=["DELETE"])
@bp.response(200, CurrentSchema)
@errors(bp, *VETERAN_ERRORS, "registration.not_found", "registration.not_editable")
def delete_draft():
    """删除尚未提交的草稿。"""
    registration_service.delete_draft(account=current_account())
    return _current()


@bp.route("/registrations/current/submit", methods=["POST"])
@bp.response(200, CurrentSchema)
@errors(bp, *VETERAN_ERRORS, "registration.window_closed", "registration.incomplete", "registration.not_editable")
def submit():
    """提交（或补正后重新提交）。缺项时 422，details 列出每个缺少的登记项。"""
    registration_service.submit(account=current_account())
    return _current()


@bp.route("/registrations", methods=["GET"])
@bp.arguments(PastPageArgsSchema, location="query")
@bp.response(200, PastListSchema)
@errors(bp, *VETERAN_ERRORS)
def list_past(args):
    """历年登记记录，按年度倒序；next_cursor 不为空时以 cursor 取下一页。"""
    items, next_cursor = registration_service.history(veteran=current_veteran(), **args)
    return {"items": items, "next_cursor": next_cursor}


@bp.route("/registrations/current/attachments", methods=["POST"])
@bp.arguments(UploadFormSchema, location="form")
@bp.arguments(UploadFileSchema, location="files")
@bp.response(201, AttachmentSchema)
@errors(
    bp,
    *VETERAN_ERRORS,
    "registration.attachment_rejected",
    "registration.too_many_attachments",
    "registration.window_closed",
    "registration.not_editable",
    "request.too_large",
    "files.scan_unavailable",
)
def upload_attachment(form, files):
    """上传证明材料（multipart/form-data：section、file）。按文件内容校验类型，文件名由服务器生成。"""
    upload = files["file"]
    return attachments.add_attachment(
        account=current_account(),
        section=form["section"],
        filename=getattr(upload, "filename", None),
        data=upload.read(attachments.MAX_BYTES + 1),
    )


@bp.route("/registrations/current/attachments/<id:attachment_id>", methods=["DELETE"])
@bp.response(200, CurrentSchema)
@errors(
    bp, *VETERAN_ERRORS, "registration.attachment_not_found", "registration.not_editable", "registration.window_closed"
)
def delete_attachment(attachment_id):
    """删除本人尚可修改的证明材料。"""
    attachments.delete_attachment(account=current_account(), attachment_id=attachment_id)
    return _current()


def raise_upload_limit():
    """Uploads may carry up to 5 MB; every other request keeps the 1 MB body limit."""
    if request.endpoint == "registration.upload_attachment":
        request.max_content_length = attachments.MAX_BYTES + 64 * 1024
