"""Verifying the audit log: the keyed chain in seal order, then every signed checkpoint outside the database.

Streams in batches (keyset on seq), so 100,000 rows take about a second and constant memory. What it finds:
a modified row or seal (HMAC mismatch), a deleted row (its seal points at nothing) or seal (a gap in seq), a forged or
inserted seal (HMAC mismatch, since the key is not in the database), and deleted newest rows (the chain is shorter
than, or differs from, a checkpoint). Rows not sealed yet are counted, not judged.
"""

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone

from flask import current_app
from sqlalchemy import func, select

from backend.audit import checkpoints
from backend.audit.chain import GENESIS, chain_columns, chain_key, keyed, link_hash, unsealed_query
from backend.audit.models import AuditLog, AuditSeal
from backend.extensions import db

MAX_PROBLEMS = 50
CST = timezone(timedelta(hours=8))


@dataclass
class Problem:
    kind: str  # gap | missing_row | hash | checkpoint | truncated | checkpoint_signature | checkpoint_unreadable
    # | checkpoint_missing
    message: str  # Chinese, shown to the auditor
    seq: int | None = None
    row_id: int | None = None


@dataclass
class Report:
    checked_at: datetime
    sealed_rows: int = 0
    first_seq: int | None = None
    last_seq: int | None = None
    first_time: datetime | None = None  # earliest and latest occurred_at among the sealed rows checked
    last_time: datetime | None = None
    last_row_id: int | None = None
    unsealed_rows: int = 0
    oldest_unsealed: datetime | None = None
    checkpoint_source: str | None = None
    checkpoints_compared: int = 0
    latest_checkpoint: dict | None = None
    problem_count: int = 0
    problems: list = field(default_factory=list)

    @property
    def ok(self):
        return self.problem_count == 0

    @property
    def first_broken_row_id(self):
        return next((p.row_id for p in self.problems if p.row_id is not None), None)

    def add(self, kind, message, seq=None, row_id=None):
        self.problem_count += 1
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(Problem(kind, message, seq, row_id))


def _chain_batches(batch):
    seal, log = AuditSeal.__table__, AuditLog.__table__
    last = 0
    while True:
        query = (
            select(*chain_columns(), seal.c.seq, seal.c.row_id, seal.c.chain_hash)
            .select_from(seal.outerjoin(log, log.c.id == seal.c.row_id))
            .where(seal.c.seq > last)
            .order_by(seal.c.seq)
            .limit(batch)
        )
        rows = db.session.execute(query).all()
        if not rows:
            return
        yield rows
        last = rows[-1].seq


def _check_chain(report, key, batch):
    prev_hash, expected = GENESIS, 1
    for rows in _chain_batches(batch):
        for row in rows:
            if row.seq != expected:
                report.add("gap", f"封存序号 {expected}–{row.seq - 1} 缺失：其审计记录连同封存被删除。", seq=expected)
            elif row.id is None:
                report.add(
                    "missing_row",
                    f"第 {row.seq} 号封存对应的审计记录（编号 {row.row_id}）已被删除。",
                    row.seq,
                    row.row_id,
                )
            elif link_hash(key, prev_hash, row.seq, row) != row.chain_hash:
                report.add(
                    "hash",
                    f"第 {row.seq} 号（审计记录编号 {row.id}）的内容或哈希不一致：记录被修改、插入或伪造。",
                    row.seq,
                    row.id,
                )
            if row.id is not None:
                report.first_time = min(report.first_time or row.occurred_at, row.occurred_at)
                report.last_time = max(report.last_time or row.occurred_at, row.occurred_at)
            prev_hash, expected = row.chain_hash, row.seq + 1  # resynchronise: one fault is reported once
            report.sealed_rows += 1
            report.first_seq = report.first_seq or row.seq
            report.last_seq, report.last_row_id = row.seq, row.row_id


def _compare_chunk(report, chunk):
    seqs = {cp["seq"] for _, cp in chunk}
    stored = dict(db.session.execute(select(AuditSeal.seq, AuditSeal.chain_hash).where(AuditSeal.seq.in_(seqs))).all())
    head = report.last_seq or 0
    for number, cp in chunk:
        report.checkpoints_compared += 1
        when = cp["at_time"].astimezone(CST).strftime("%Y-%m-%d %H:%M:%S")
        if cp["seq"] > head:
            report.add(
                "truncated",
                f"检查点（{when}，第 {number} 行）记录已封存 {cp['seq']} 条，而日志只到第 {head} 号："
                "最新的审计记录被删除。",
                seq=cp["seq"],
            )
        elif cp["seq"] > 0 and stored.get(cp["seq"]) != cp["hash"]:
            report.add(
                "checkpoint",
                f"第 {cp['seq']} 号与检查点（{when}，第 {number} 行）不符：日志被截断后重建或被改写。",
                seq=cp["seq"],
            )


def _check_checkpoints(report, path, chunk_size=1000):
    report.checkpoint_source = path
    if not path:
        return
    chunk = []
    try:
        for number, cp in checkpoints.read(path):
            if cp is None:
                report.add("checkpoint_signature", f"检查点文件第 {number} 行签名无效或格式错误：检查点被伪造或改动。")
                continue
            if report.latest_checkpoint is None or cp["seq"] >= report.latest_checkpoint["seq"]:
                report.latest_checkpoint = cp
            chunk.append((number, cp))
            if len(chunk) >= chunk_size:
                _compare_chunk(report, chunk)
                chunk = []
    except FileNotFoundError:
        pass  # no checkpoint written yet: fine while nothing is sealed, a finding below otherwise
    except OSError:
        report.add("checkpoint_unreadable", "无法读取检查点文件，未能核对日志是否被截断。")
    if chunk:
        _compare_chunk(report, chunk)
    if report.sealed_rows and not report.checkpoints_compared:
        # Every seal run that sealed rows writes a checkpoint: none at all means the sink lost or removed them.
        report.add(
            "checkpoint_missing",
            f"已封存 {report.sealed_rows} 条记录，但检查点文件不存在或为空："
            "检查点可能被删除，无法确认最新记录未被删除。",
        )


def verify(*, checkpoint_path=None, batch=5000):
    """Check the whole log; returns a Report. `checkpoint_path` defaults to AUDIT_CHECKPOINT_FILE (pass an export of
    the syslog lines when the sink is syslog)."""
    report = Report(checked_at=datetime.now(UTC))
    _check_chain(report, keyed(chain_key()), batch)
    table = AuditLog.__table__
    count, oldest = db.session.execute(unsealed_query([func.count(), func.min(table.c.occurred_at)])).one()
    report.unsealed_rows = count
    if oldest is not None:  # func.min() loses the column type on SQLite: normalise to an aware UTC datetime
        oldest = datetime.fromisoformat(oldest) if isinstance(oldest, str) else oldest
        report.oldest_unsealed = oldest if oldest.tzinfo else oldest.replace(tzinfo=UTC)
    _check_checkpoints(report, checkpoint_path or current_app.config.get("AUDIT_CHECKPOINT_FILE"))
    return report
