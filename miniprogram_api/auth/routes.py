"""POST /auth/login, /auth/refresh (public blueprint); POST /auth/logout, /auth/bind (token required)."""

from flask import current_app
from flask_smorest import Blueprint

from backend.accounts import service as accounts_service
from backend.extensions import api_limiter
from miniprogram_api.auth.schemas import BindSchema, LoginSchema, OkSchema, TokensSchema
from miniprogram_api.docs import TOKEN_ERRORS, errors
from miniprogram_api.me.schemas import MeSchema
from miniprogram_api.security import current_account, issue_tokens, rotate_refresh_token

public_bp = Blueprint("auth_public", __name__, description="登录")
bp = Blueprint("auth", __name__, description="退出与身份绑定")


@public_bp.route("/auth/login", methods=["POST"])
@api_limiter.limit(lambda: current_app.config["API_LOGIN_RATE_LIMIT"])
@public_bp.doc(security=[])  # no token
@public_bp.arguments(LoginSchema)
@public_bp.response(200, TokensSchema)
@errors(
    public_bp,
    "wechat.code_invalid",
    "wechat.code_used",
    "wechat.code_blocked",
    "wechat.unavailable",
    "request.rate_limited",
)
def login(payload):
    """用 wx.login 的 code 登录，返回访问令牌和刷新令牌。"""
    return issue_tokens(accounts_service.login(code=payload["code"]))


@public_bp.route("/auth/refresh", methods=["POST"])
@public_bp.response(200, TokensSchema)
@errors(public_bp, *TOKEN_ERRORS)
def refresh():
    """用刷新令牌（Authorization: Bearer <refresh_token>）换取新的访问令牌和刷新令牌。

    刷新令牌只能使用一次：换取后原刷新令牌作废；再次使用已作废的刷新令牌，视为令牌泄露，本次登录签发的全部令牌立即失效，
    须重新登录。
    """
    return issue_tokens(rotate_refresh_token())


@bp.route("/auth/logout", methods=["POST"])
@bp.response(200, OkSchema)
@errors(bp, *TOKEN_ERRORS)
def logout():
    """退出登录：本微信账号已签发的全部令牌立即失效。"""
    accounts_service.logout(account=current_account())
    return {"ok": True}


@bp.route("/auth/bind", methods=["POST"])
@api_limiter.limit(lambda: current_app.config["API_BIND_RATE_LIMIT"])
@bp.arguments(BindSchema)
@bp.response(200, MeSchema)
@errors(
    bp,
    *TOKEN_ERRORS,
    "accounts.bind_mismatch",
    "accounts.bind_locked",
    "accounts.already_bound",
    "accounts.veteran_taken",
    "accounts.veteran_inactive",
    "wechat.phone_code_invalid",
    "wechat.unavailable",
    "request.rate_limited",
)
def bind(payload):
    """绑定退役军人身份：姓名、身份证号与微信授权的手机号须与登记信息一致。"""
    account = accounts_service.bind(account=current_account(), **payload)
    return account.veteran
