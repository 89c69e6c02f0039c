"""Mini program tokens (flask-jwt-extended): short-lived access tokens and refresh tokens naming one WeChat
account, with the audience, the token type and the account's token generation checked on every request.

The veteran bound to the account is looked up on every request, so unbinding or logout takes effect at once.
"""

from flask import g
from flask_jwt_extended import create_access_token, create_refresh_token, verify_jwt_in_request

from backend.accounts import service as accounts_service
from backend.extensions import jwt
from miniprogram_api.errors import envelope


def issue_tokens(account):
    claims = {"gen": account.token_generation}
    return {
        "access_token": create_access_token(identity=str(account.id), additional_claims=claims),
        "refresh_token": create_refresh_token(identity=str(account.id), additional_claims=claims),
        "token_type": "Bearer",
        "expires_in": 7200,
        "bound": account.veteran_id is not None,
    }


@jwt.token_in_blocklist_loader
def _revoked(jwt_header, jwt_payload):
    account = accounts_service.find_active_account(jwt_payload.get("sub"), jwt_payload.get("gen"))
    if account is None:
        return True
    g.account = account
    return False


@jwt.expired_token_loader
def _expired(jwt_header, jwt_payload):
    return envelope("auth.token_expired", "登录已过期，请重新登录", 401)


@jwt.invalid_token_loader
def _invalid(reason):
    return envelope("auth.token_invalid", "登录凭证无效，请重新登录", 401)


@jwt.unauthorized_loader
def _missing(reason):
    return envelope("auth.required", "请先登录", 401)


@jwt.revoked_token_loader
def _revoked_answer(jwt_header, jwt_payload):
    return envelope("auth.token_revoked", "登录已失效，请重新登录", 401)


@jwt.token_verification_failed_loader
def _verification_failed(jwt_header, jwt_payload):
    return envelope("auth.token_invalid", "登录凭证无效，请重新登录", 401)


@jwt.user_lookup_error_loader
def _lookup_failed(jwt_header, jwt_payload):
    return envelope("auth.token_revoked", "登录已失效，请重新登录", 401)


def requires_no_auth():
    """Auth choice for public blueprints (health, login, refresh, WeChat pushes)."""


def requires_account():
    """Auth choice: a valid access token of a live account (bound or not)."""
    verify_jwt_in_request()


def requires_veteran():
    """Auth choice: a valid access token of an account bound to a veteran."""
    verify_jwt_in_request()
    accounts_service.require_veteran(g.account)


def require_refresh_token():
    verify_jwt_in_request(refresh=True)
    return g.account


def current_account():
    return g.account


def current_veteran():
    return accounts_service.require_veteran(g.account)
