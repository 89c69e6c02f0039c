"""Mini program tokens (flask-jwt-extended): short-lived access tokens and refresh tokens naming one WeChat
account, with the audience, the token type, the account's token generation and the token family checked on every
request.

Every login opens a token family (claim `fam`); a refresh token is good for one exchange (backend/accounts/tokens.py)
and its reuse revokes the family. The account's state (generation, live families, bound veteran and status) is a
cached Principal (backend/accounts/principal.py) forgotten at every change, so unbinding, logout or a record marked
deceased or transferred out takes effect at once.
"""

from flask import current_app, g
from flask_jwt_extended import create_access_token, create_refresh_token, get_jwt, verify_jwt_in_request

from backend import denials
from backend.accounts import principal as principal_service
from backend.accounts import service as accounts_service
from backend.accounts import tokens as tokens_service
from backend.accounts.models import WechatAccount
from backend.extensions import db, jwt
from miniprogram_api.errors import envelope


def issue_tokens(grant):
    """A token pair for a tokens.Grant; a bare account (test fixtures) gets a family of its own first."""
    if not isinstance(grant, tokens_service.Grant):
        grant = tokens_service.open_family(grant)
    account = grant.account
    claims = {"gen": account.token_generation, "fam": grant.family_id}
    access_expires = current_app.config["JWT_ACCESS_TOKEN_EXPIRES"]
    return {
        "access_token": create_access_token(identity=str(account.id), additional_claims=claims),
        "refresh_token": create_refresh_token(
            identity=str(account.id), additional_claims={**claims, "jti": grant.refresh_jti}
        ),
        "token_type": "Bearer",
        "expires_in": int(access_expires.total_seconds()),
        "bound": account.veteran_id is not None,
    }


@jwt.token_in_blocklist_loader
def _revoked(jwt_header, jwt_payload):
    """Access tokens are checked against the cached Principal (backend/accounts/principal.py: no query when warm);
    a refresh token, used once per two hours, against the database."""
    if jwt_payload.get("type") == "refresh":
        account = accounts_service.find_active_account(
            jwt_payload.get("sub"), jwt_payload.get("gen"), jwt_payload.get("fam"), family_required=True
        )
        if account is None:
            return True
        g.account = account
        g.principal = principal_service.load(account.id)
        return False
    found = principal_service.find_active(jwt_payload.get("sub"), jwt_payload.get("gen"), jwt_payload.get("fam"))
    if found is None:
        return True
    g.principal = found
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
    denials.record_revoked_token(jwt_payload)  # dbroles slice: refusals are audited, coalesced per minute
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
    """Auth choice: a valid access token of an account bound to a veteran whose record is active (no query)."""
    verify_jwt_in_request()
    accounts_service.require_bound(g.principal)


def rotate_refresh_token():
    """Spend the presented refresh token and return the Grant for its successor. :raises TokenReused:"""
    verify_jwt_in_request(refresh=True)
    claims = get_jwt()
    return tokens_service.rotate(account=g.account, family_id=claims["fam"], jti=claims["jti"])


def current_principal():
    """The checked account as a read-only Principal: id, token_generation, veteran_id, veteran_status."""
    return g.principal


def current_account():
    """The ORM account, loaded by primary key on first use in the request (for routes that change it)."""
    if "account" not in g:
        g.account = accounts_service.get_account(g.principal.id)
    return g.account


def audit_actor():
    """The ORM account of the checked token for an audit row (its veteran's station is the row's unit), or None."""
    if "account" in g:
        return g.account
    principal = g.get("principal")
    return None if principal is None else db.session.get(WechatAccount, principal.id)


def current_veteran_id():
    """The bound, active veteran's id, without a query. :raises NotBound, VeteranInactive:"""
    return accounts_service.require_bound(g.principal)


def current_veteran():
    """The bound, active veteran's ORM row, by primary key. :raises NotBound, VeteranInactive:"""
    return accounts_service.get_bound_veteran(g.principal)
