"""Idempotency keys of phone writes: claim a key before the write runs, store its first answer, replay it.

A claim is an INSERT under the unique (account_id, key) constraint, committed on its own before the write runs, so
of two concurrent requests with one key exactly one runs; the other finds the claim in progress (409) or finished
(replay). A first request that fails (5xx, 429) releases its claim so a retry can run. Keys live 24 hours; expired
keys are ignored, replaced on reuse and purged by a periodic task.
"""

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from backend import pii
from backend.db import expire_loaded, transaction, utcnow
from backend.errors import RuleViolation, ValidationFailed
from backend.extensions import db
from backend.idempotency.models import CONTEXT, IdempotencyKey

TTL = timedelta(hours=24)
# A claim still in progress after this long belongs to a request that died between its write and storing the answer
# (a killed worker); a retry may take it over. Longer than any request may run (gunicorn's timeout).
ABANDONED_AFTER = timedelta(minutes=5)


class IdempotencyMismatch(ValidationFailed):
    code = "request.idempotency_mismatch"
    message = "该幂等键已用于另一项请求，请为新的操作生成新的幂等键"


class IdempotencyInProgress(RuleViolation):
    code = "request.idempotency_in_progress"
    message = "相同的请求正在处理中，请稍后重试"


@dataclass(frozen=True)
class Replay:
    """The stored first answer of a key."""

    status: int
    content_type: str
    body: bytes


def _find(account_id, key):
    return db.session.scalars(
        select(IdempotencyKey).where(IdempotencyKey.account_id == account_id, IdempotencyKey.key == key)
    ).first()


def _judge(row, request_hash, now):
    """What an existing, live row means for a new request: a Replay, or an error raised; None when reclaimable."""
    if row.request_hash != request_hash:
        raise IdempotencyMismatch()
    if row.state == "done":
        body = pii.decrypt(row.response_sealed, context=CONTEXT) if row.response_sealed else ""
        return Replay(status=row.response_status, content_type=row.response_type, body=body.encode())
    if row.created_at > now - ABANDONED_AFTER:
        raise IdempotencyInProgress(details={"retry_after": 1})
    return None


def claim_key(*, account_id, key, request_hash, now=None):
    """Claim `key` for one write of `account_id`, in a transaction of its own.

    :param request_hash: sha256 hex of the request's method, path and body.
    :return: the claim's id (run the write, then complete_claim or release_claim), or a Replay of the first answer.
    :raises IdempotencyMismatch: the key was used with another request.
    :raises IdempotencyInProgress: the first request with this key is still running.
    """
    now = now or utcnow()
    fresh = dict(account_id=account_id, key=key, request_hash=request_hash, state="in_progress")
    try:  # the usual case, a new key: one INSERT, no read before it
        with transaction():
            row = IdempotencyKey(**fresh, created_at=now, expires_at=now + TTL)
            db.session.add(row)
            db.session.flush()
            return row.id
    except IntegrityError:
        pass  # the key exists: judge it below
    for _attempt in range(2):
        try:
            with transaction():
                row = _find(account_id, key)
                if row is not None and row.expires_at > now:
                    replay = _judge(row, request_hash, now)
                    if replay is not None:
                        return replay
                if row is not None:  # expired or abandoned: the key starts afresh
                    db.session.delete(row)
                    db.session.flush()
                row = IdempotencyKey(**fresh, created_at=now, expires_at=now + TTL)
                db.session.add(row)
                db.session.flush()
                return row.id
        except IntegrityError:
            # A concurrent request claimed the key first: read its claim in a fresh transaction and judge again.
            continue
    raise IdempotencyInProgress(details={"retry_after": 1})


def complete_claim(*, claim_id, status, content_type, body):
    """Store the answer of a claimed write so a repeat replays it. `body` is the response text."""
    with transaction():  # one UPDATE, nothing read first
        db.session.execute(
            update(IdempotencyKey)
            .where(IdempotencyKey.id == claim_id)
            .values(
                state="done",
                response_status=status,
                response_type=content_type,
                response_sealed=pii.encrypt(body, context=CONTEXT),
            )
            .execution_options(synchronize_session=False, session_safe=True)
        )
    expire_loaded(IdempotencyKey, claim_id)


def release_claim(*, claim_id):
    """Forget a claim whose write failed, so a retry with the same key runs the write."""
    with transaction():
        db.session.execute(delete(IdempotencyKey).where(IdempotencyKey.id == claim_id))


def purge_expired(*, now=None):
    """Delete keys past their 24 hours. Returns how many were deleted."""
    with transaction():
        result = db.session.execute(delete(IdempotencyKey).where(IdempotencyKey.expires_at <= (now or utcnow())))
    return result.rowcount
