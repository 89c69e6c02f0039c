"""The keyed audit chain and its sealer.

Writers only insert audit rows (backend/audit/service.record): no lock, no read of the chain head, so an audited
batch never stalls logins. The sealer (the `audit.seal` beat task, `flask audit-seal`, or in-process in the embedded
development mode) gives every row without a seal the next chain position, in id order of the rows it finds. A row that
commits late (a long transaction) is simply found later and gets a later position; ids left unused by rollbacks never
block. Only the sealer serialises, on a PostgreSQL advisory lock.

chain_hash(n) = HMAC-SHA256(AUDIT_CHAIN_KEY, chain_hash(n-1) | n | row id | canonical row). The key is never stored in
the database, so whoever can rewrite the tables cannot recompute the chain. After each run that sealed rows the sealer
writes a signed checkpoint (head position and hash) outside the database (backend/audit/checkpoints.py), which reveals
the deletion of the newest rows.
"""

import hashlib
import hmac
import json
import logging
from dataclasses import dataclass
from datetime import UTC

from flask import current_app
from sqlalchemy import exists, insert, select, text
from sqlalchemy.exc import IntegrityError

from backend.audit.models import AuditLog, AuditSeal
from backend.db import transaction, utcnow
from backend.extensions import db

GENESIS = "0" * 64
_SEAL_LOCK = 727_002  # pg advisory lock id, held only by a sealer
log = logging.getLogger(__name__)


def chain_key():
    key = current_app.config.get("AUDIT_CHAIN_KEY")
    if not key:
        raise RuntimeError("AUDIT_CHAIN_KEY is not configured")
    return key.encode()


def canonical(row):
    """The audited content of a row (an ORM object or a Core row), as stable JSON."""
    payload = {
        "id": row.id,
        "occurred_at": row.occurred_at.astimezone(UTC).isoformat(),
        "actor_type": row.actor_type,
        "actor_id": row.actor_id,
        "actor_label": row.actor_label,
        "actor_roles": row.actor_roles,
        "actor_org_id": row.actor_org_id,
        "org_path": row.org_path,
        "action": row.action,
        "object_type": row.object_type,
        "object_id": row.object_id,
        "result": row.result,
        "request_id": row.request_id,
        "source_ip": row.source_ip,
        "details": row.details,
    }
    return json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def link_hash(key, prev_hash, seq, row):
    message = f"{prev_hash}|{seq}|{row.id}|{canonical(row)}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


@dataclass
class Head:
    seq: int = 0
    chain_hash: str = GENESIS
    row_id: int | None = None


@dataclass
class SealResult:
    sealed: int
    head: Head
    busy: bool = False  # another sealer held the lock; it will seal these rows
    checkpoint: dict | None = None


def chain_head(session=None):
    session = session or db.session
    row = session.execute(
        select(AuditSeal.seq, AuditSeal.chain_hash, AuditSeal.row_id).order_by(AuditSeal.seq.desc()).limit(1)
    ).first()
    return Head(row.seq, row.chain_hash, row.row_id) if row else Head()


def unsealed_query(columns):
    table = AuditLog.__table__
    return select(*columns).where(~exists().where(AuditSeal.__table__.c.row_id == table.c.id))


def _seal_batch(key, limit):
    """Seal up to `limit` rows in one transaction; None when another sealer holds the lock."""
    with transaction() as session:
        if session.get_bind().dialect.name == "postgresql":
            if not session.execute(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": _SEAL_LOCK}).scalar():
                return None
        head = chain_head(session)
        table = AuditLog.__table__
        rows = session.execute(unsealed_query([table]).order_by(table.c.id).limit(limit)).all()
        seals, now = [], utcnow()
        for row in rows:
            head = Head(head.seq + 1, link_hash(key, head.chain_hash, head.seq + 1, row), row.id)
            seals.append({"seq": head.seq, "row_id": row.id, "chain_hash": head.chain_hash, "sealed_at": now})
        if seals:
            session.execute(insert(AuditSeal.__table__), seals)
        return len(seals), head


def seal_pending(*, batch=1000, max_rows=100_000, checkpoint=True):
    """Seal every row committed so far (up to max_rows per run), then write a signed checkpoint if any was sealed.

    Idempotent: a second run finds nothing to seal. Safe to run from several processes at once.
    """
    from backend.audit import checkpoints

    key, total, head, busy = chain_key(), 0, None, False
    while total < max_rows:
        try:
            outcome = _seal_batch(key, min(batch, max_rows - total))
        except IntegrityError:  # SQLite has no advisory lock: a concurrent sealer took the same positions
            outcome = None
        if outcome is None:
            busy = True
            break
        count, head = outcome
        total += count
        if count < batch:
            break
    head = head or chain_head()
    result = SealResult(sealed=total, head=head, busy=busy)
    if total and checkpoint:
        result.checkpoint = checkpoints.write(head)
    if total:
        log.info("audit sealer: %d rows sealed, head at %d", total, head.seq)
    return result
