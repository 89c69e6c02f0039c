"""Review fixes of issue 18 (medium): the registration hooks, inputs that raised 500s, the bank file's name snapshot and
fixed widths, a move carrying the pay profile, set-based return imports."""

from datetime import UTC, date, datetime

import pytest
from freezegun import freeze_time
from sqlalchemy import event as sa_event
from sqlalchemy import select, update

from backend.audit.models import AuditLog
from backend.db import transaction
from backend.extensions import db
from backend.pension import bank_files, money, returns, states
from backend.pension.models import PayStateEvent
from backend.pension.profile import profile_of
from backend.registration import jobs
from backend.registration.models import Registration
from backend.veterans import service as veterans_service
from backend.veterans.models import Veteran
from tests.factories import create_unit
from tests.pension.payroll_fixtures import inline_jobs, line_of, paid_veteran, run_for
from tests.registration.helpers import FULL

__all__ = ["inline_jobs"]
pytestmark = pytest.mark.usefixtures("inline_jobs")


def _overdue(veteran, year=2026, status="overdue"):
    with transaction():
        db.session.add(
            Registration(
                veteran_id=veteran.id,
                unit_id=veteran.unit_id,
                year=year,
                status=status,
                content=FULL,
                return_reasons={},
            )
        )


def test_mark_overdue_survives_a_failing_suspension(world, monkeypatch):
    veteran = paid_veteran(world)
    _overdue(veteran, status="draft")

    def boom(year, now=None):
        raise RuntimeError("boom")

    monkeypatch.setattr(states, "suspend_overdue", boom)
    with freeze_time("2026-04-02 02:00:00"):
        assert jobs.mark_overdue() == 1  # the registration marks stand
    failure = db.session.scalars(select(AuditLog).where(AuditLog.action == "pension.auto_suspend_failed")).one()
    assert failure.result == "failure" and failure.details["year"] == 2026


def test_a_late_job_suspends_from_the_current_month(world):
    veteran = paid_veteran(world)
    _overdue(veteran)
    assert states.suspend_overdue(2026, now=datetime(2026, 8, 10, 2, tzinfo=UTC)) == 1
    assert profile_of(veteran.id).state_since == date(2026, 8, 1)  # not April: those months were paid
    suspended = db.session.scalars(select(PayStateEvent).where(PayStateEvent.action == "suspend")).one()
    assert suspended.registration_year == 2026


def test_approving_an_older_year_does_not_lift_this_years_suspension(world):
    veteran = paid_veteran(world)
    _overdue(veteran)
    states.suspend_overdue(2026, now=datetime(2026, 4, 2, 2, tzinfo=UTC))
    with transaction():
        assert states.on_registration_approved(veteran.id, 2025, world.staff_x) is None
    assert profile_of(veteran.id).state == "suspended"
    with transaction():
        assert states.on_registration_approved(veteran.id, 2026, world.staff_x) is not None
    assert profile_of(veteran.id).state == "active"


def test_huge_exponents_are_a_bad_amount_not_a_500():
    for text in ("1E+999999999", "-1E+999999999", "1e13"):
        with pytest.raises(money.BadAmount):
            money.yuan_to_fen(text, allow_negative=True)


def test_an_overlong_csv_field_is_an_invalid_return_file(world):
    paid_veteran(world)
    run = run_for(world)
    content = ("序号,结果,原因\n1,失败," + "长" * 140_000 + "\n").encode("utf-8")
    with pytest.raises(returns.ReturnInvalid):
        returns.import_return(actor=world.staff_x, run_id=run.id, filename="r.csv", content=content)


def test_a_reexport_after_the_veteran_is_renamed_is_identical(world):
    veteran = paid_veteran(world)
    run = run_for(world)
    layout = db.session.scalars(select(bank_files.BankLayout).where(bank_files.BankLayout.name == "通用CSV")).one()
    first, _, sha = bank_files.export(actor=world.staff_x, run_id=run.id, layout_id=layout.id)
    assert line_of(run, veteran).veteran_name == veteran.name
    with transaction():
        db.session.execute(update(Veteran).where(Veteran.id == veteran.id).values(name="改名后"))
    again, _, sha_again = bank_files.export(actor=world.staff_x, run_id=run.id)
    assert sha_again == sha and again.read() == first.read()


def test_a_fixed_width_value_too_wide_refuses_the_export(world):
    paid_veteran(world)
    run = run_for(world)
    layout = bank_files.save_layout(
        actor=world.sys_admin,
        name="窄列",
        bank="测试银行",
        format="fixed",
        encoding="gb18030",
        columns="seq|序号|4\naccount|账号|10\namount_fen|金额|12",
        checksum_line=False,
    )
    with pytest.raises(bank_files.FieldTooWide) as refused:
        bank_files.export(actor=world.staff_x, run_id=run.id, layout_id=layout.id)
    assert refused.value.code == "pension.export_too_wide"
    assert refused.value.details == {"seq": 1, "column": "账号", "width": 10, "bytes": 19}
    db.session.refresh(run)
    assert run.export_sha256 is None  # nothing was fixed as the file of record


def test_moving_a_veteran_carries_the_pay_profile(world):
    veteran = paid_veteran(world)
    x2 = create_unit(parent=world.x, name="青山二站")
    veterans_service.move_veteran(actor=world.staff_x, veteran_id=veteran.id, station_id=x2.id)
    assert profile_of(veteran.id).station_id == x2.id


def test_a_return_file_updates_lines_set_based(world):
    for _ in range(4):
        paid_veteran(world)
    run = run_for(world)
    statements = []

    def count(conn, cursor, statement, *args):
        if statement.lstrip().upper().startswith("UPDATE PAYROLL_LINE"):
            statements.append(statement)

    engine = db.engine
    sa_event.listen(engine, "before_cursor_execute", count)
    try:
        content = "序号,结果,原因\n1,成功,\n2,成功,\n3,失败,销户\n4,失败,销户\n".encode()
        record, _ = returns.import_return(actor=world.staff_x, run_id=run.id, filename="r.csv", content=content)
    finally:
        sa_event.remove(engine, "before_cursor_execute", count)
    assert (record.paid_count, record.failed_count) == (2, 2)
    assert len(statements) == 2  # one per (result, reason), not one per line
