"""Where the chain is sealed and verified: the auditor's page, the CLI and the beat task."""

from sqlalchemy import select, text

from backend.audit import chain
from backend.audit.models import AuditSeal
from backend.extensions import db
from config.settings import Base
from tests.audit.conftest import log_rows
from tests.helpers import portal_as


def test_verify_page_states_what_it_checked_and_up_to_when(portal_app, world, sink):
    log_rows(5, world)
    head = chain.seal_pending().head.seq
    client = portal_as(portal_app, world.auditor)  # its login rows stay unsealed: no beat in tests
    page = client.get("/audit/verify", expect=200).get_data(as_text=True)
    assert "校验通过" in page and "截至" in page
    assert f"{head} 条（封存序号 1–{head}" in page
    assert "已比对 1 个签名检查点" in page and f"记录已封存 {head} 条" in page
    assert "尚未封存，本次未校验" in page and "系统约每 15 秒封存一次" in page


def test_verify_page_reports_tampering(portal_app, world, sink, as_owner):
    log_rows(3, world)
    chain.seal_pending()
    row_id = db.session.scalar(select(AuditSeal.row_id).where(AuditSeal.seq == 2))
    with as_owner():
        if db.session.get_bind().dialect.name == "postgresql":
            db.session.execute(text("ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update"))
        else:
            db.session.execute(text("DROP TRIGGER audit_log_no_update"))
        db.session.execute(text("UPDATE audit_log SET result = 'denied' WHERE id = :id"), {"id": row_id})
    page = portal_as(portal_app, world.auditor).get("/audit/verify", expect=200).get_data(as_text=True)
    assert "校验失败" in page and f"第 2 号（审计记录编号 {row_id}）的内容或哈希不一致" in page


def test_verify_page_without_a_checkpoint_sink_says_truncation_is_unchecked(portal_app, world):
    page = portal_as(portal_app, world.auditor).get("/audit/verify", expect=200).get_data(as_text=True)
    assert "未配置检查点文件" in page


def test_verify_page_seals_first_in_the_embedded_eager_mode(portal_app, world, sink, monkeypatch):
    log_rows(2, world)
    client = portal_as(portal_app, world.auditor)
    monkeypatch.setitem(portal_app.extensions["celery"].conf, "task_always_eager", True)
    page = client.get("/audit/verify", expect=200).get_data(as_text=True)
    assert "无，全部记录均已封存" in page and "校验通过" in page


def test_cli_seals_and_verifies(app, world, sink, as_owner):
    log_rows(3, world)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["audit-seal"])
    assert result.exit_code == 0 and "sealed: 3, head: 3" in result.output
    assert runner.invoke(args=["audit-seal"]).output.startswith("sealed: 0")
    result = runner.invoke(args=["audit-verify"])
    assert result.exit_code == 0 and "checkpoints compared: 1" in result.output and result.output.endswith("ok\n")
    with as_owner():
        if db.session.get_bind().dialect.name == "postgresql":
            db.session.execute(text("ALTER TABLE audit_seal DISABLE TRIGGER audit_seal_no_update"))
        else:
            db.session.execute(text("DROP TRIGGER audit_seal_no_update"))
        db.session.execute(text("UPDATE audit_seal SET chain_hash = :h WHERE seq = 3"), {"h": "0" * 64})
    result = runner.invoke(args=["audit-verify"])
    assert result.exit_code == 1 and "[hash]" in result.output and "[checkpoint]" in result.output


def test_the_beat_task_seals(world, sink):
    from backend.audit import tasks

    log_rows(2, world)
    assert tasks.seal.run() == {"sealed": 2, "head": 2, "busy": False}
    assert Base.CELERY_BEAT_SCHEDULE["audit-seal"]["task"] == "audit.seal"
    assert "backend.audit.tasks" in Base.CELERY_TASK_MODULES
