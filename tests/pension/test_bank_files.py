"""Bank files (issue 18, part 3): byte-identical re-exports (xlsx, csv, fixed), layout snapshots, checksum line."""

import hashlib
from datetime import date

import pytest
from sqlalchemy import select, update

from backend.audit.models import AuditLog
from backend.db import transaction
from backend.extensions import db
from backend.pension import bank_files
from backend.pension.models import BankLayout, PayrollLine
from tests.pension.payroll_fixtures import inline_jobs, paid_veteran, run_for

__all__ = ["inline_jobs"]
pytestmark = pytest.mark.usefixtures("inline_jobs")


def _layout(name):
    return db.session.scalars(select(BankLayout).where(BankLayout.name == name)).one()


def _xlsx_layout(world):
    return bank_files.save_layout(
        actor=world.sys_admin,
        name="测试Excel",
        bank="测试银行",
        format="xlsx",
        encoding="utf-8",
        columns="seq|序号\nname|姓名\naccount|账号\namount_yuan|金额",
        checksum_line=True,
    )


def _download(world, run, layout_id=None):
    out, name, sha = bank_files.export(actor=world.staff_x, run_id=run.id, layout_id=layout_id)
    data = out.read()
    out.close()
    assert hashlib.sha256(data).hexdigest() == sha and run.number in name
    return data


@pytest.mark.parametrize("layout", ["通用CSV", "农商银行定长", "xlsx"])
def test_reexport_is_byte_identical(world, layout):
    paid_veteran(world, base=300_000, account="6228480000000000017")
    paid_veteran(world, base=123_456, allowance=100, account="6228480000000000025")
    paid_veteran(world, account=None)  # held: not in the file
    run = run_for(world)
    layout_id = _xlsx_layout(world).id if layout == "xlsx" else _layout(layout).id
    first = _download(world, run, layout_id)
    db.session.refresh(run)
    assert run.export_sha256 == hashlib.sha256(first).hexdigest() and run.export_layout["id"] == layout_id
    assert _download(world, run) == first
    actions = db.session.scalars(select(AuditLog.action).where(AuditLog.object_id == str(run.id))).all()
    assert actions.count("pension.run_exported") == 2


def test_csv_content_and_checksum_line(world):
    paid_veteran(world, base=300_000, account="6228480000000000017")
    paid_veteran(world, base=123_456, account="6228480000000000025")
    run = run_for(world)
    text = _download(world, run, _layout("通用CSV").id).decode("utf-8")
    lines = text.split("\r\n")
    assert lines[0] == "序号,姓名,账号,户名,开户行,金额（元）,名册编号"
    assert lines[1].split(",")[2] == "6228480000000000017" and lines[2].split(",")[5] == "1234.56"
    body = ("\r\n".join(lines[:3]) + "\r\n").encode("utf-8")
    assert lines[3] == f"TRAILER|2|423456|{hashlib.sha256(body).hexdigest()}"


def test_fixed_width_in_bytes(world):
    paid_veteran(world, base=300_000, account="6228480000000000017")
    run = run_for(world)
    data = _download(world, run, _layout("农商银行定长").id)
    first = data.split(b"\r\n")[0]
    assert len(first) == 6 + 24 + 20 + 12 + 6  # widths in gb18030 bytes
    assert first[:6] == b"     1" and first[6:30].rstrip() == b"6228480000000000017"
    assert first[50:62] == b"      300000" and first[62:] == b"202603"


def test_changed_layout_does_not_change_a_reexport(world):
    paid_veteran(world)
    run = run_for(world)
    layout = _layout("通用CSV")
    first = _download(world, run, layout.id)
    bank_files.save_layout(
        actor=world.sys_admin,
        layout_id=layout.id,
        name=layout.name,
        bank=layout.bank,
        format="csv",
        encoding="gb18030",
        columns="account|卡号\namount_fen|分",
        checksum_line=False,
    )
    assert _download(world, run, layout.id) == first


def test_a_reexport_that_differs_is_refused_and_audited(world):
    paid_veteran(world)
    run = run_for(world)
    _download(world, run, _layout("通用CSV").id)
    with transaction():
        db.session.execute(update(PayrollLine).where(PayrollLine.run_id == run.id).values(net_fen=1))
    with pytest.raises(bank_files.ExportMismatch):
        bank_files.export(actor=world.staff_x, run_id=run.id)
    assert db.session.scalar(select(AuditLog.id).where(AuditLog.action == "pension.export_mismatch"))


def test_only_confirmed_runs_export(world):
    from backend.pension.payroll import RunInvalidState

    paid_veteran(world)
    run = run_for(world, month=date(2026, 5, 1), confirm=False)
    with pytest.raises(RunInvalidState):
        bank_files.export(actor=world.staff_x, run_id=run.id, layout_id=_layout("通用CSV").id)


def test_portal_download_streams_the_file(world, portal):
    paid_veteran(world)
    run = run_for(world)
    portal.login(world.staff_x)
    response = portal.post(f"/pension/payroll/{run.id}/export", data={"layout": _layout("通用CSV").id}, expect=200)
    assert (
        run.number in response.headers["Content-Disposition"] or "filename*" in response.headers["Content-Disposition"]
    )
    assert response.data.startswith("序号".encode())
    assert portal.post(f"/pension/payroll/{run.id}/export", data={}, expect=200).data == response.data
