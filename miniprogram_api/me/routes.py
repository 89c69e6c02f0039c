"""GET /me, PATCH /me."""

from flask_smorest import Blueprint

from backend.accounts import service as accounts_service
from miniprogram_api.docs import VETERAN_ERRORS, errors
from miniprogram_api.me.schemas import MePatchSchema, MeSchema
from miniprogram_api.security import current_account, current_veteran

bp = Blueprint("me", __name__, description="我的信息")


@bp.route("/me", methods=["GET"])
@bp.response(200, MeSchema)
@errors(bp, *VETERAN_ERRORS)
def get_me():
    """本人信息（身份证号脱敏）。"""
    return current_veteran()


@bp.route("/me", methods=["PATCH"])
@bp.arguments(MePatchSchema)
@bp.response(200, MeSchema)
@errors(bp, *VETERAN_ERRORS, "veterans.invalid_mobile", "request.stale_update")
def patch_me(payload):
    """修改本人联系方式（仅手机号、住址）。"""
    return accounts_service.update_contact(account=current_account(), **payload)
