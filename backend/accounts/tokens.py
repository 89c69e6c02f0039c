"""Refresh token families: every login opens a family, every refresh spends one refresh token and issues the next.

A refresh token is good for one exchange. Presenting a spent one means two parties hold it (a stolen copy, or a
replayed request), so the whole family is revoked: every access and refresh token descended from that login stops
working. Of two concurrent exchanges of one token, exactly one wins; the other is treated as reuse.
"""

import uuid
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import select, update

from backend.accounts import principal
from backend.accounts.models import RefreshToken, TokenFamily
from backend.audit import service as audit_service
from backend.db import transaction, utcnow
from backend.errors import AppError
from backend.extensions import db


class TokenReused(AppError):
    status = 401
    code = "auth.token_revoked"
    message = "登录已失效，请重新登录"


@dataclass(frozen=True)
class Grant:
    """What the web layer needs to sign a token pair: the account, its family and the new refresh token's jti."""

    account: object
    family_id: int
    refresh_jti: str


def open_family(account):
    """Start a family for a fresh login and issue its first refresh token, in the caller's transaction if any."""
    with transaction():
        family = TokenFamily(account_id=account.id)
        db.session.add(family)
        db.session.flush()
        return Grant(account, family.id, _new_refresh_token(family.id))


def rotate(*, account, family_id, jti):
    """Spend refresh token `jti` and issue its successor in the same family.

    The spend is one conditional UPDATE, so of two concurrent exchanges only one matches a row; the loser (and any
    later replay) revokes the family, which is committed before the refusal is raised.
    :raises TokenReused:
    """
    now = utcnow()
    with transaction():
        spent = db.session.execute(
            update(RefreshToken)
            .where(RefreshToken.jti == jti, RefreshToken.family_id == family_id, RefreshToken.spent_at.is_(None))
            .values(spent_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount
        if spent == 1:
            return Grant(account, family_id, _new_refresh_token(family_id))
        known = db.session.get(RefreshToken, jti)
        if known is not None and known.family_id == family_id:
            revoke_family(family_id, reason="reuse")
            audit_service.record(
                actor=account,
                action="veteran.token_reuse",
                result="denied",
                object_type="wechat_account",
                object_id=account.id,
                details={"family": family_id},
            )
    raise TokenReused()


def revoke_family(family_id, *, reason):
    revoked = db.session.scalars(
        update(TokenFamily)
        .where(TokenFamily.id == family_id, TokenFamily.revoked_at.is_(None))
        .values(revoked_at=utcnow(), revoked_reason=reason)
        .returning(TokenFamily.account_id)
        .execution_options(synchronize_session=False)
    ).all()
    for account_id in revoked:  # a bulk UPDATE: the flush listener does not see it (principal.py)
        principal.forget(account_id)


def family_is_live(family_id, account_id):
    """Whether tokens of `family_id` may still be used by `account_id` (read afresh, never from the session cache)."""
    if not isinstance(family_id, int) or isinstance(family_id, bool):
        return False
    row = db.session.execute(
        select(TokenFamily.account_id, TokenFamily.revoked_at).where(TokenFamily.id == family_id)
    ).first()
    return row is not None and row.account_id == account_id and row.revoked_at is None


def _new_refresh_token(family_id):
    jti = str(uuid.uuid4())
    expires_at = utcnow() + current_app.config["JWT_REFRESH_TOKEN_EXPIRES"]
    db.session.add(RefreshToken(jti=jti, family_id=family_id, expires_at=expires_at))
    db.session.flush()
    return jti


def purge_expired(now=None):
    """Delete refresh tokens past their expiry, then families with no token left (their access tokens expired long
    before). Idempotent; run hourly by beat. Returns the number of token rows deleted."""
    from sqlalchemy import delete, exists

    now = now or utcnow()
    with transaction():
        tokens = db.session.execute(
            delete(RefreshToken).where(RefreshToken.expires_at < now).execution_options(synchronize_session=False)
        ).rowcount
        idle = ~exists().where(RefreshToken.family_id == TokenFamily.id)
        db.session.execute(
            delete(TokenFamily)
            .where(idle, TokenFamily.created_at < now - current_app.config["JWT_ACCESS_TOKEN_EXPIRES"])
            .execution_options(synchronize_session=False)
        )
    return tokens
