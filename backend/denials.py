"""Refusals are audited, once: a staff member asking for a record outside their subtree, a veteran asking for another
veteran's record, a request carrying a revoked token. Each writes one `access.denied` row (actor, what was asked,
result "denied"); repeats by the same actor for the same request within a minute write nothing more.

Services only mark the error (mark()); the web layer records it after the failed transaction has rolled back, so
the audit row is committed on its own. The caller's answer is unchanged: out of reach still reads as not found.
"""

import logging
from datetime import timedelta

from flask import current_app, has_request_context, request
from sqlalchemy import select

from backend.audit import service as audit_service
from backend.audit.models import AuditLog
from backend.db import utcnow
from backend.extensions import db

log = logging.getLogger(__name__)

ACTION = "access.denied"
WINDOW = timedelta(minutes=1)
_REDIS = {}


def mark(error, *, object_type, object_id):
    """Flag a not-found error as the refusal of a record that exists but lies out of the caller's reach."""
    error.denial = {"object_type": object_type, "object_id": str(object_id)}
    return error


def denial_of(error):
    return getattr(error, "denial", None)


def exists(model, object_id):
    """Whether row `object_id` of `model` exists at all (after a scoped lookup found nothing)."""
    return db.session.scalar(select(model.id).where(model.id == object_id)) is not None


def asked():
    """What was asked, without personal data: the method and the endpoint (route name), never the URL or body."""
    if not has_request_context():
        return "internal"
    return f"{request.method} {request.endpoint or 'unknown'}"[:64]


def _request_details():
    if not has_request_context():
        return {}
    return {"endpoint": request.endpoint, "method": request.method}


def record_refusal(*, actor, reason, object_type=None, object_id=None, details=None):
    """Write one access.denied row unless the same actor was refused the same request in the last minute.

    :param actor: a Staff, a WechatAccount or None.
    :param reason: a short code: out_of_scope, not_owner, token_revoked, permission.
    :returns: the row written, or None when coalesced.
    """
    what, key = asked(), _actor_key(actor)  # read before any rollback expires the actor
    try:  # the refusal is answered whatever happens here: an audit failure never turns a 404 or 401 into a 500
        if _seen_recently(actor, what):
            return None
        return audit_service.record_now(
            actor=actor,
            action=ACTION,
            result="denied",
            object_type=object_type,
            object_id=object_id,
            details={"asked": what, "reason": reason, **_request_details(), **(details or {})},
        )
    except Exception:
        log.exception("audit: the refusal could not be recorded")
        _forget(key, what)  # the next refusal in this minute tries again
        db.session.rollback()
        return None


def record_revoked_token(payload):
    """A request with a token that was revoked (logout, unbinding, a revoked family): audited against its account."""
    from backend.accounts.models import WechatAccount

    try:
        account_id = int(payload.get("sub"))
    except (TypeError, ValueError):
        account_id = None
    if account_id is not None and not 0 < account_id < 2**63:
        account_id = None
    try:
        account = db.session.get(WechatAccount, account_id) if account_id is not None else None
    except Exception:  # as in record_refusal: the 401 is answered even when the database is not
        log.exception("audit: the revoked token's account could not be read")
        db.session.rollback()
        account = None
    return record_refusal(
        actor=account,
        reason="token_revoked",
        object_type="wechat_account",
        object_id=account_id,
        details={"token_type": str(payload.get("type"))[:16]},
    )


def record_marked(*, actor, error):
    """Record the refusal an error was marked with (see mark()); nothing for an unmarked error."""
    denial = denial_of(error)
    if denial is None:
        return None
    reason = "out_of_scope" if getattr(actor, "actor_type", None) == "staff" else "not_owner"
    return record_refusal(actor=actor, reason=reason, **denial)


def _actor_key(actor):
    if actor is None:
        return "anonymous", None
    return actor.actor_type, actor.id


def _seen_recently(actor, what):
    actor_type, actor_id = _actor_key(actor)
    client = _redis()
    if client is not None:
        import redis

        key = f"audit:denied:{actor_type}:{actor_id}:{what}"
        try:
            return not client.set(key, 1, nx=True, ex=int(WINDOW.total_seconds()))
        except redis.RedisError:
            log.warning("redis unavailable for refusal coalescing; using the audit log")
    # The occurred_at index bounds the scan to the last minute's rows.
    query = select(AuditLog.details).where(
        AuditLog.occurred_at >= utcnow() - WINDOW,
        AuditLog.action == ACTION,
        AuditLog.actor_type == actor_type,
        AuditLog.actor_id.is_(None) if actor_id is None else AuditLog.actor_id == actor_id,
    )
    return any((details or {}).get("asked") == what for details in db.session.scalars(query))


def _forget(key, what):
    """Drop the coalescing mark set for a refusal whose row was not written."""
    actor_type, actor_id = key
    try:
        client = _redis()
        if client is not None:
            client.delete(f"audit:denied:{actor_type}:{actor_id}:{what}")
    except Exception:
        log.warning("redis unavailable: the refusal mark stays until it expires")


def _redis():
    url = current_app.config.get("REDIS_URL")
    if not url:
        return None
    if url not in _REDIS:
        import redis

        _REDIS[url] = redis.Redis.from_url(url, socket_timeout=1)
    return _REDIS[url]
