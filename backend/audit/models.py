"""Audit rows and their seals, both append-only: database triggers refuse UPDATE and DELETE (see the migrations).

A web request only inserts an `audit_log` row (no lock, no read of the chain head). The sealer (backend/audit/chain.py)
later gives each unsealed row the next chain position in `audit_seal`, with an HMAC keyed by AUDIT_CHAIN_KEY over the
row and the previous seal, so the chain is ordered by seal time, not by id.
"""

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from backend.db import BigId, UTCDateTime, utcnow
from backend.extensions import db


class AuditLog(db.Model):
    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_occurred_at", "occurred_at"),
        Index("ix_audit_log_action", "action"),
        Index("ix_audit_log_object", "object_type", "object_id"),
        Index("ix_audit_log_actor_id", "actor_type", "actor_id", "id"),  # one person's rows newest first (0028)
        Index("ix_audit_log_result_id", "result", "id"),  # refusals newest first (0028)
        Index("ix_audit_log_org_path", "org_path", postgresql_ops={"org_path": "varchar_pattern_ops"}),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    occurred_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)
    actor_type: Mapped[str] = mapped_column(String(16))  # staff | veteran | system | anonymous
    actor_id: Mapped[int | None] = mapped_column(BigId)
    actor_label: Mapped[str | None] = mapped_column(String(64))  # staff username; never a veteran's name
    actor_roles: Mapped[str | None] = mapped_column(String(255))
    actor_org_id: Mapped[int | None] = mapped_column(BigId)
    org_path: Mapped[str | None] = mapped_column(String(255))
    action: Mapped[str] = mapped_column(String(64))
    object_type: Mapped[str | None] = mapped_column(String(32))
    object_id: Mapped[str | None] = mapped_column(String(64))
    result: Mapped[str] = mapped_column(String(16))  # success | failure | denied
    request_id: Mapped[str | None] = mapped_column(String(32))
    source_ip: Mapped[str | None] = mapped_column(String(64))
    details: Mapped[dict] = mapped_column(JSON, default=dict)
    # The unkeyed SHA-256 chain of rows written before migration 0008; kept as history, no longer written or checked.
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    row_hash: Mapped[str | None] = mapped_column(String(64))


class AuditSeal(db.Model):
    """One chain position per audit row: seq 1, 2, 3... without gaps, in the order the sealer found the rows."""

    __tablename__ = "audit_seal"

    seq: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    row_id: Mapped[int] = mapped_column(BigId, ForeignKey("audit_log.id"), unique=True)
    chain_hash: Mapped[str] = mapped_column(String(64))  # HMAC-SHA256(AUDIT_CHAIN_KEY, previous hash + seq + row)
    sealed_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)
