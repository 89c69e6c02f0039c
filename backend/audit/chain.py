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
from datetime import UTC, timedelta

from flask import current_app
from sqlalchemy import Text, cast, exists, func, insert, select, text
from sqlalchemy.exc import IntegrityError

from backend.audit.models import AuditLog, AuditSeal
from backend.db import transaction, utcnow
from backend.extensions import db
from backend.keys.primitives import DIGESTS, Mac

GENESIS = "0" * 64
_SEAL_LOCK = 727_002  # pg advisory lock id, held only by a sealer
log = logging.getLogger(__name__)


def chain_key():
    key = current_app.config.get("AUDIT_CHAIN_KEY")
    if not key:
        raise RuntimeError("AUDIT_CHAIN_KEY is not configured")
    return key.encode()


_FIELDS = (
    "actor_type",
    "actor_id",
    "actor_label",
    "actor_roles",
    "actor_org_id",
    "org_path",
    "action",
    "object_type",
    "object_id",
    "result",
    "request_id",
    "source_ip",
)


def chain_columns():
    """The columns the chain covers, in this order at the start of every query that hashes rows: `details` as its
    stored JSON text, so it is hashed byte for byte (and quickly: no parse and re-serialise per row)."""
    table = AuditLog.__table__
    details = cast(table.c.details, Text).label("details")
    return [table.c.id, table.c.occurred_at, *(table.c[name] for name in _FIELDS), details]


def canonical(row):
    """The audited content of a row whose first columns are chain_columns(), as stable JSON."""
    values = [row[0], row[1].astimezone(UTC).isoformat(), *row[2 : len(_FIELDS) + 3]]
    return json.dumps(values, ensure_ascii=False, separators=(",", ":"))


def keyed(key):
    """An HMAC state for `key` under AUDIT_CHAIN_DIGEST (HMAC-SHA256, or HMAC-SM3 for 密评 deployments: issue 15);
    link_hash copies it per row (cheaper than a new HMAC)."""
    if current_app.config.get("AUDIT_CHAIN_DIGEST", "sha256") == "sm3":
        return Mac(DIGESTS["sm3"], key)
    return hmac.new(key, digestmod=hashlib.sha256)


def link_hash(key, prev_hash, seq, row):
    """The chain hash of `row` at position `seq` after `prev_hash`; `key` is bytes or a keyed() state."""
    state = key.copy() if hasattr(key, "copy") else keyed(key)
    state.update(f"{prev_hash}|{seq}|{row.id}|{canonical(row)}".encode())
    return state.hexdigest()


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


def _late_ids(session, top, lookback, full):
    """Unsealed rows at or below the highest sealed id: transactions that committed after a later row was sealed.
    Only rows written up to `lookback` before the last seal are looked at (no transaction stays open that long),
    unless `full`. Measured from the last seal, not from now, so a sealer stopped for longer than `lookback` still
    finds the rows that committed just after its last run."""
    table, seal = AuditLog.__table__, AuditSeal.__table__
    if full:
        return session.scalars(unsealed_query([table.c.id]).where(table.c.id <= top).order_by(table.c.id)).all()
    last_sealed = session.scalar(select(seal.c.sealed_at).order_by(seal.c.seq.desc()).limit(1))
    cut = min(utcnow(), last_sealed or utcnow()) - lookback
    recent = session.scalars(
        select(table.c.id).where(table.c.id <= top, table.c.occurred_at >= cut).order_by(table.c.id)
    ).all()
    if not recent:
        return []
    sealed = set(session.scalars(select(seal.c.row_id).where(seal.c.row_id.between(recent[0], top))))
    return [row_id for row_id in recent if row_id not in sealed]


def _seal_batch(key, limit, run):
    """Seal up to `limit` rows in one transaction: rows committed late first (found by the run's first batch and kept
    in run["late"]), then new rows in id order. Returns (count, head), or None when another sealer holds the lock."""
    with transaction() as session:
        if session.get_bind().dialect.name == "postgresql":
            if not session.execute(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": _SEAL_LOCK}).scalar():
                return None
        head = chain_head(session)
        table, seal = AuditLog.__table__, AuditSeal.__table__
        top = session.scalar(select(func.max(seal.c.row_id))) or 0
        if run["late"] is None:
            run["late"] = _late_ids(session, top, run["lookback"], run["full"])
        ids, run["late"] = list(run["late"][:limit]), run["late"][limit:]
        ids += session.scalars(select(table.c.id).where(table.c.id > top).order_by(table.c.id).limit(limit - len(ids)))
        rows = session.execute(select(*chain_columns()).where(table.c.id.in_(ids)).order_by(table.c.id)).all()
        seals, now = [], utcnow()
        for row in rows:
            head = Head(head.seq + 1, link_hash(key, head.chain_hash, head.seq + 1, row), row.id)
            seals.append({"seq": head.seq, "row_id": row.id, "chain_hash": head.chain_hash, "sealed_at": now})
        if seals:
            session.execute(insert(AuditSeal.__table__), seals)
        return len(seals), head


def seal_pending(*, batch=1000, max_rows=100_000, checkpoint=True, full=False):
    """Seal every row committed so far (up to max_rows per run), then write a signed checkpoint if any was sealed.

    Idempotent: a second run finds nothing to seal. Safe to run from several processes at once. `full` also looks
    for unsealed rows older than AUDIT_SEAL_LOOKBACK (the verifier reports them as pending).
    """
    from backend.audit import checkpoints

    key, total, head, busy = keyed(chain_key()), 0, None, False
    lookback = timedelta(seconds=current_app.config.get("AUDIT_SEAL_LOOKBACK", 3600))
    run = {"late": None, "lookback": lookback, "full": full}
    while total < max_rows:
        try:
            outcome = _seal_batch(key, min(batch, max_rows - total), run)
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
