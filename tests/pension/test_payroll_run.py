"""Payroll runs (issue 18, part 3): lines, funding split, stands, back pay, exceptions, maker/checker, one live run."""

from datetime import date

import pytest
from sqlalchemy import select

from backend.db import transaction
from backend.extensions import db
from backend.pension import payroll
from backend.pension.models import FundingTotal, PayrollRun
from tests.pension.payroll_fixtures import (
    MONTH,
    add_amount,
    checker,
    event,
    inline_jobs,
    line_of,
    paid_veteran,
    run_for,
)

__all__ = ["inline_jobs"]
pytestmark = pytest.mark.usefixtures("inline_jobs")


def test_lines_components_and_funding_split(world):
    veteran = paid_veteran(world, base=300_000, allowance=50_050)
    run = run_for(world, confirm=False)
    assert run.state == "ready" and run.number == f"{world.x.id}-202603-01"
    assert (run.total_rows, run.processed_rows) == (1, 1)
    line = line_of(run, veteran)
    assert (line.base_fen, line.allowance_fen, line.back_pay_fen, line.deduction_fen) == (300_000, 50_050, 0, 0)
    assert (line.net_fen, line.central_fen, line.local_fen) == (350_050, 300_000, 50_050)
    assert line.exceptions == [] and not line.held and line.account_enc
    assert run.total_fen == 350_050


def test_suspended_is_listed_and_held_stopped_is_left_out(world):
    suspended = paid_veteran(world)
    event(suspended, "suspend", date(2026, 2, 10))
    stopped = paid_veteran(world)
    event(stopped, "stop", date(2026, 1, 5))
    later = paid_veteran(world)
    event(later, "suspend", date(2026, 4, 1))  # from next month: this month still stands
    run = run_for(world, confirm=False)
    line = line_of(run, suspended)
    assert line.exceptions == ["suspended"] and line.held and line.net_fen == 0
    assert line_of(run, stopped) is None
    assert line_of(run, later).net_fen == 300_000
    assert payroll.exception_counts(run)["suspended"] == 1


def test_exceptions_no_account_overdue_jump(world):
    from backend.registration.models import Registration

    no_account = paid_veteran(world, account=None)
    jumper = paid_veteran(world, base=100_000)
    overdue = paid_veteran(world)
    with transaction():
        db.session.add(Registration(veteran_id=overdue.id, unit_id=overdue.station_id, year=2026, status="overdue"))
    run_for(world, month=date(2026, 2, 1))
    add_amount(jumper, "base", 130_000, MONTH)  # +30% > 20%
    run = run_for(world, confirm=False)
    assert line_of(run, no_account).exceptions == ["no_account"] and line_of(run, no_account).held
    assert line_of(run, jumper).exceptions == ["jump"]
    assert line_of(run, overdue).exceptions == ["overdue"]
    assert run.exception_count == 3
    assert run.total_fen == 130_000 + 300_000  # the held line is not sent to the bank
    listed, _ = payroll.lines(run, exceptions_only=True)
    assert {line.veteran_id for line in listed} == {no_account.id, jumper.id, overdue.id}


def test_retro_adjustment_is_back_paid_in_the_next_run_once(world):
    veteran = paid_veteran(world, base=300_000)
    run_for(world, month=date(2026, 1, 1))
    run_for(world, month=date(2026, 2, 1))
    add_amount(veteran, "base", 310_000, date(2026, 1, 1))  # +100 yuan from January, recorded in March
    march = run_for(world, month=MONTH)
    line = line_of(march, veteran)
    assert (line.base_fen, line.back_pay_fen) == (310_000, 20_000)  # January and February
    assert line.back_pay_central_fen == 20_000 and line.central_fen == 330_000
    april = run_for(world, month=date(2026, 4, 1))
    assert line_of(april, veteran).back_pay_fen == 0  # paid once


def test_resumed_back_pay_paid_once_and_released_by_cancel(world):
    veteran = paid_veteran(world, base=200_000)
    event(veteran, "suspend", date(2026, 1, 1))
    event(veteran, "resume", date(2026, 3, 1), back_pay_fen=400_000)
    first = run_for(world, confirm=False)
    assert line_of(first, veteran).back_pay_fen == 400_000
    payroll.cancel_run(actor=world.staff_x, run_id=first.id)
    second = run_for(world)
    assert second.number.endswith("-02")  # numbers are never reused
    assert line_of(second, veteran).back_pay_fen == 400_000
    assert line_of(run_for(world, month=date(2026, 4, 1)), veteran).back_pay_fen == 0


def test_maker_cannot_confirm_and_checker_confirms_once(world):
    paid_veteran(world)
    run = run_for(world, confirm=False)
    with pytest.raises(payroll.CheckerIsMaker):
        payroll.confirm_run(actor=world.staff_x, run_id=run.id)
    other = checker(world)
    payroll.confirm_run(actor=other, run_id=run.id)
    with pytest.raises(payroll.RunInvalidState):
        payroll.confirm_run(actor=other, run_id=run.id)
    db.session.refresh(run)
    assert run.state == "confirmed" and run.checker_id == other.id


def test_one_live_run_per_unit_month_and_subtree(world):
    paid_veteran(world)
    run = run_for(world, confirm=False)
    from tests.factories import create_staff

    city_reviewer = create_staff(unit=world.city, roles=("center_reviewer",))
    for unit in (world.x, world.x1, world.city):  # the unit itself, a descendant, an ancestor
        with pytest.raises(payroll.RunExists):
            payroll.start_run(actor=city_reviewer, unit_id=unit.id, month=MONTH)
    assert payroll.start_run(actor=city_reviewer, unit_id=world.y.id, month=MONTH)  # a sibling is independent
    payroll.cancel_run(actor=world.staff_x, run_id=run.id)
    assert payroll.start_run(actor=world.staff_x, unit_id=world.x1.id, month="2026-03").number.endswith("-01")


def test_scope(world):
    paid_veteran(world)
    run = run_for(world, confirm=False)
    with pytest.raises(payroll.RunNotFound):
        payroll.get_run(actor=world.staff_y, run_id=run.id)
    assert payroll.list_runs(actor=world.staff_y)[0] == []
    from backend.orgs.scope import OrgUnitNotFound

    with pytest.raises(OrgUnitNotFound):
        payroll.start_run(actor=world.staff_y, unit_id=world.x.id, month=MONTH)


def test_confirm_writes_funding_totals(world):
    paid_veteran(world, base=300_000, allowance=50_000)
    paid_veteran(world, base=100_000)
    run = run_for(world)
    rows = db.session.scalars(select(FundingTotal).where(FundingTotal.run_id == run.id)).all()
    got = {(r.component, r.funding): (r.amount_fen, r.veteran_count) for r in rows}
    assert got == {("base", "central"): (400_000, 2), ("allowance", "local"): (50_000, 1)}
    assert all(r.station_path == world.x1.path and r.month == MONTH for r in rows)


def test_failed_job_ends_failed(world, monkeypatch):
    paid_veteran(world)
    monkeypatch.setattr("backend.pension.payroll_job._Context.lines", lambda self, batch: 1 / 0)
    run = run_for(world, confirm=False)
    assert run.state == "failed" and run.error
    assert db.session.get(PayrollRun, run.id).state == "failed"
