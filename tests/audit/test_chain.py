"""The keyed audit chain: the sealer, the verifier and the signed checkpoints kept outside the database.

Each tampering test plays an attacker holding the owner's credentials (triggers off), but not AUDIT_CHAIN_KEY.
"""

import hashlib
import json
import socket
from datetime import timedelta

import pytest
from sqlalchemy import select, text

from backend.audit import chain, checkpoints
from backend.audit.models import AuditLog, AuditSeal
from backend.audit.verify import verify
from backend.db import transaction, utcnow
from backend.extensions import db
from tests.audit.conftest import log_rows


def _seals():
    query = select(AuditSeal.seq, AuditSeal.row_id, AuditSeal.chain_hash).order_by(AuditSeal.seq)
    return db.session.execute(query).all()


def _bypass_guards():
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update"))
        db.session.execute(text("ALTER TABLE audit_seal DISABLE TRIGGER audit_seal_no_update"))
    else:
        for name in ("audit_log_no_update", "audit_log_no_delete", "audit_seal_no_update", "audit_seal_no_delete"):
            db.session.execute(text(f"DROP TRIGGER {name}"))


def _row(row_id):
    return db.session.execute(select(*chain.chain_columns()).where(AuditLog.id == row_id)).one()


def _reseal_from(seq, hasher):
    """Replace every seal from `seq` on with hashes from `hasher(prev, seq, row)`: a rewrite without the key."""
    old = [s for s in _seals() if s.seq >= seq]
    prev = next((s.chain_hash for s in _seals() if s.seq == seq - 1), chain.GENESIS)
    db.session.execute(text("DELETE FROM audit_seal WHERE seq >= :s"), {"s": seq})
    for s in old:
        prev = hasher(prev, s.seq, _row(s.row_id))
        db.session.execute(
            text("INSERT INTO audit_seal (seq, row_id, chain_hash, sealed_at) VALUES (:q, :r, :h, :t)"),
            {"q": s.seq, "r": s.row_id, "h": prev, "t": utcnow().replace(tzinfo=None)},
        )


def _unkeyed(prev, seq, row):
    return hashlib.sha256(f"{prev}|{seq}|{row.id}|{chain.canonical(row)}".encode()).hexdigest()


def test_sealer_chains_in_id_order_and_is_idempotent(world, sink):
    log_rows(10, world)
    first = chain.seal_pending(batch=3)
    assert first.sealed == 10 and first.head.seq == 10 and not first.busy
    ids = db.session.scalars(select(AuditLog.id).order_by(AuditLog.id)).all()
    assert [s.row_id for s in _seals()] == ids and [s.seq for s in _seals()] == list(range(1, 11))
    assert chain.seal_pending().sealed == 0
    assert len(sink.read_text().splitlines()) == 1  # a checkpoint per run that sealed something
    report = verify(batch=4)
    assert report.ok and report.sealed_rows == 10 and (report.first_seq, report.last_seq) == (1, 10)
    assert report.unsealed_rows == 0 and report.checkpoints_compared == 1 and report.latest_checkpoint["seq"] == 10


def test_rows_committed_out_of_id_order_get_later_positions(world, sink):
    log_rows(3, world)
    chain.seal_pending()
    top = db.session.scalar(select(AuditLog.id).order_by(AuditLog.id.desc()))

    def insert(row_id):
        with transaction():
            db.session.add(AuditLog(id=row_id, actor_type="system", action="staff.login", result="success"))

    insert(top + 10)
    chain.seal_pending()
    insert(top + 5)  # a long transaction took this id first and committed last
    report = verify()
    assert report.ok and report.unsealed_rows == 1 and report.oldest_unsealed is not None
    chain.seal_pending()
    assert [s.row_id for s in _seals()][-2:] == [top + 10, top + 5]
    assert verify().ok


def test_a_straggler_older_than_the_lookback_waits_for_a_full_run(world, sink):
    log_rows(2, world)
    top = db.session.scalar(select(AuditLog.id).order_by(AuditLog.id.desc()))

    def insert(row_id, **fields):
        with transaction():
            db.session.add(AuditLog(id=row_id, actor_type="system", action="staff.login", result="success", **fields))

    insert(top + 10)
    chain.seal_pending()
    insert(top + 5, occurred_at=utcnow() - timedelta(hours=3))  # a transaction open for hours: not found by default
    assert chain.seal_pending().sealed == 0
    report = verify()
    assert report.ok and report.unsealed_rows == 1 and report.oldest_unsealed < utcnow() - timedelta(hours=2)
    assert chain.seal_pending(full=True).sealed == 1
    assert verify().unsealed_rows == 0


def test_a_row_committed_just_before_a_long_sealer_outage_is_still_sealed(world, sink):
    from freezegun import freeze_time

    log_rows(2, world)
    top = db.session.scalar(select(AuditLog.id).order_by(AuditLog.id.desc()))
    with freeze_time(utcnow()) as clock:
        with transaction():
            db.session.add(AuditLog(id=top + 10, actor_type="system", action="staff.login", result="success"))
        chain.seal_pending()
        with transaction():  # a lower id committed a moment after that run; then the beat is down for hours
            db.session.add(
                AuditLog(id=top + 5, actor_type="system", action="staff.login", result="success", occurred_at=utcnow())
            )
        clock.tick(timedelta(hours=3))
        assert chain.seal_pending().sealed == 1
    assert verify().unsealed_rows == 0


def test_a_modified_row_is_found(world, sink, as_owner):
    log_rows(20, world)
    chain.seal_pending()
    target = _seals()[7]
    with as_owner():
        _bypass_guards()
        db.session.execute(text("UPDATE audit_log SET result = 'failure' WHERE id = :id"), {"id": target.row_id})
    report = verify()
    assert not report.ok and [(p.kind, p.seq) for p in report.problems] == [("hash", 8)]
    assert report.first_broken_row_id == target.row_id


def test_an_inserted_row_is_found(world, sink, as_owner):
    log_rows(10, world)
    chain.seal_pending()
    forged_id = _seals()[-1].row_id + 100
    with as_owner():
        _bypass_guards()
        db.session.add(AuditLog(id=forged_id, actor_type="system", action="staff.login", result="success"))
        db.session.flush()
        old = [s for s in _seals() if s.seq >= 5]
        db.session.execute(text("DELETE FROM audit_seal WHERE seq >= 5"))
        params = [(5, forged_id, "0" * 64)] + [(s.seq + 1, s.row_id, s.chain_hash) for s in old]
        for seq, row_id, digest in params:
            db.session.execute(
                text("INSERT INTO audit_seal (seq, row_id, chain_hash, sealed_at) VALUES (:q, :r, :h, :t)"),
                {"q": seq, "r": row_id, "h": digest, "t": utcnow().replace(tzinfo=None)},
            )
        _reseal_from(5, lambda prev, seq, row: chain.link_hash(b"a guessed key", prev, seq, row))
    report = verify()
    assert report.problems[0].kind == "hash" and report.first_broken_row_id == forged_id
    assert any(p.kind == "checkpoint" for p in report.problems)  # the old head (seq 10) no longer matches


def test_a_deleted_middle_row_is_found(world, sink, as_owner):
    log_rows(10, world)
    chain.seal_pending()
    victim = _seals()[4]
    with as_owner():
        _bypass_guards()
        db.session.execute(text("DELETE FROM audit_seal WHERE seq = :s"), {"s": victim.seq})
        db.session.execute(text("DELETE FROM audit_log WHERE id = :id"), {"id": victim.row_id})
    report = verify()
    assert [(p.kind, p.seq) for p in report.problems] == [("gap", 5)]


def test_deleted_newest_rows_are_found_only_through_the_checkpoint(world, sink, as_owner, monkeypatch, app):
    log_rows(10, world)
    chain.seal_pending()
    with as_owner():
        _bypass_guards()
        for s in _seals()[-3:]:
            db.session.execute(text("DELETE FROM audit_seal WHERE seq = :s"), {"s": s.seq})
            db.session.execute(text("DELETE FROM audit_log WHERE id = :id"), {"id": s.row_id})
    report = verify()
    assert [(p.kind, p.seq) for p in report.problems] == [("truncated", 10)] and report.last_seq == 7
    assert "最新的审计记录被删除" in report.problems[0].message
    monkeypatch.setitem(app.config, "AUDIT_CHECKPOINT_FILE", None)
    assert verify().ok  # the chain alone cannot see a cut tail: that is what the checkpoints are for
    monkeypatch.setitem(app.config, "AUDIT_CHECKPOINT_FILE", str(sink))
    log_rows(5, world)  # the log grows again past the old head: the old checkpoint still disagrees
    chain.seal_pending()
    assert [(p.kind, p.seq) for p in verify().problems] == [("checkpoint", 10)]


def test_a_removed_checkpoint_file_is_reported(world, sink):
    """Deleting the newest rows and the whole checkpoint file must not pass as an untouched log."""
    log_rows(3, world)
    chain.seal_pending()
    assert verify().ok
    sink.unlink()
    assert [p.kind for p in verify().problems] == ["checkpoint_missing"]


def test_a_rewrite_with_recomputed_unkeyed_hashes_is_found(world, sink, as_owner):
    log_rows(10, world)
    chain.seal_pending()
    with as_owner():
        _bypass_guards()
        target = _seals()[2]
        db.session.execute(text("UPDATE audit_log SET action = 'staff.logout' WHERE id = :id"), {"id": target.row_id})
        _reseal_from(3, _unkeyed)
        db.session.execute(text("UPDATE audit_log SET row_hash = NULL, prev_hash = NULL"))
    report = verify()
    assert report.problems[0].kind == "hash" and report.problems[0].seq == 3
    assert {p.kind for p in report.problems} == {"hash", "checkpoint"}


def test_a_forged_checkpoint_line_is_reported(world, sink):
    log_rows(2, world)
    chain.seal_pending()
    forged = checkpoints.make(chain.Head(seq=50, chain_hash="f" * 64, row_id=1))
    forged["sig"] = "0" * 64
    with sink.open("a") as handle:
        handle.write(checkpoints.line_for(forged) + "\n")
        handle.write("unrelated syslog line\n")
    report = verify()
    assert [p.kind for p in report.problems] == ["checkpoint_signature"] and report.checkpoints_compared == 1


def test_checkpoints_go_to_syslog_and_an_export_verifies(world, monkeypatch, app, tmp_path):
    receiver = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    receiver.bind(("127.0.0.1", 0))
    receiver.settimeout(5)
    try:
        monkeypatch.setitem(app.config, "AUDIT_CHECKPOINT_SYSLOG", f"127.0.0.1:{receiver.getsockname()[1]}")
        log_rows(3, world)
        result = chain.seal_pending()
        message = receiver.recv(4096).decode()
    finally:
        receiver.close()
        checkpoints._syslog.pop(app.config["AUDIT_CHECKPOINT_SYSLOG"]).close()
    assert "audit-checkpoint" in message and json.dumps(result.head.seq) in message
    export = tmp_path / "syslog-export.log"
    export.write_text(f"Nov 26 10:00:00 host {message}\n", encoding="utf-8")
    report = verify(checkpoint_path=str(export))
    assert report.ok and report.checkpoints_compared == 1


def test_sealer_refuses_to_run_without_a_key(world, monkeypatch, app):
    log_rows(1, world)
    monkeypatch.setitem(app.config, "AUDIT_CHAIN_KEY", None)
    with pytest.raises(RuntimeError, match="AUDIT_CHAIN_KEY"):
        chain.seal_pending()


def test_a_different_key_fails_every_row(world, monkeypatch, app):
    log_rows(3, world)
    chain.seal_pending()
    monkeypatch.setitem(app.config, "AUDIT_CHAIN_KEY", "another-key-" + "0" * 30)
    assert [p.seq for p in verify().problems] == [1, 2, 3]
