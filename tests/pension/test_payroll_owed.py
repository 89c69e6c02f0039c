"""Review fixes of issue 18 (money): resume back pay from the payroll lines (never paid twice, never lost), retro back
pay claimed by one open run, resumed back pay claimed only by a line that pays it, no negative payment."""

from datetime import date

import pytest
from freezegun import freeze_time
from sqlalchemy import func, select

from backend.extensions import db
from backend.pension import payroll, states
from backend.pension.models import FundingTotal, PayStateEvent
from backend.pension.profile import profile_of
from tests.pension.payroll_fixtures import add_amount, event, inline_jobs, line_of, paid_veteran, run_for

__all__ = ["inline_jobs"]
pytestmark = pytest.mark.usefixtures("inline_jobs")


def _suspend(world, veteran, on):
    states.change(
        actor=world.staff_x,
        veteran_id=veteran.id,
        expected_version=profile_of(veteran.id).version_id,
        action="suspend",
        reason="public_post",
        effective_on=on,
    )


def _resume(world, veteran):
    return states.resume(actor=world.staff_x, veteran_id=veteran.id, expected_version=profile_of(veteran.id).version_id)


def test_a_month_already_paid_is_not_back_paid_again(world):
    veteran = paid_veteran(world, base=300_000)
    run_for(world, month=date(2026, 1, 1))  # January paid
    with freeze_time("2026-02-15 04:00:00"):
        _suspend(world, veteran, date(2026, 1, 1))  # recorded late, effective January 1
        resumed = _resume(world, veteran)
    assert not resumed.back_pay_fen  # January was paid by its run


def test_a_month_held_at_zero_by_a_confirmed_run_is_back_paid(world):
    veteran = paid_veteran(world, base=300_000)
    with freeze_time("2025-11-10 04:00:00"):
        _suspend(world, veteran, date(2025, 10, 1))
        november = run_for(world, month=date(2025, 11, 1))
        assert line_of(november, veteran).held and line_of(november, veteran).net_fen == 0
        resumed = _resume(world, veteran)
    assert resumed.back_pay_fen == 2 * 300_000  # October and November (held at 0 by its run)
    assert resumed.effective_on == date(2025, 12, 1)
    december = run_for(world, month=date(2025, 12, 1))
    line = line_of(december, veteran)
    assert (line.base_fen, line.back_pay_fen, line.net_fen) == (300_000, 600_000, 900_000)


def test_a_past_month_run_started_after_the_resume_does_not_pay_twice(world):
    veteran = paid_veteran(world, base=300_000)
    with freeze_time("2025-11-10 04:00:00"):
        _suspend(world, veteran, date(2025, 10, 1))
        resumed = _resume(world, veteran)
    assert resumed.back_pay_fen == 300_000  # October
    october = run_for(world, month=date(2025, 10, 1))  # started late: October is the back pay's
    assert line_of(october, veteran).net_fen == 0 and line_of(october, veteran).held
    november = run_for(world, month=date(2025, 11, 1))
    line = line_of(november, veteran)
    assert (line.base_fen, line.back_pay_fen) == (300_000, 300_000)


def test_a_second_open_run_is_refused(world):
    paid_veteran(world, base=300_000)
    run_for(world, month=date(2026, 2, 1), confirm=False)
    with pytest.raises(payroll.RunOpen) as refused:
        payroll.start_run(actor=world.staff_x, unit_id=world.x1.id, month=date(2026, 3, 1))
    assert refused.value.code == "pension.run_open"


def test_retro_back_pay_paid_by_a_later_month_is_not_paid_again_by_an_earlier_one(world):
    veteran = paid_veteran(world, base=300_000)
    run_for(world, month=date(2026, 1, 1))
    add_amount(veteran, "base", 310_000, date(2026, 1, 1))  # +100 yuan from January, recorded after its run
    march = run_for(world, month=date(2026, 3, 1))
    assert line_of(march, veteran).back_pay_fen == 10_000
    february = run_for(world, month=date(2026, 2, 1))  # started after March was confirmed
    line = line_of(february, veteran)
    assert (line.base_fen, line.back_pay_fen) == (310_000, 0)


def test_resumed_back_pay_waits_while_suspended_again(world):
    veteran = paid_veteran(world, base=300_000)
    event(veteran, "suspend", date(2026, 1, 5))
    event(veteran, "resume", date(2026, 2, 1), back_pay_fen=300_000)
    event(veteran, "suspend", date(2026, 3, 1))
    march = run_for(world, month=date(2026, 3, 1))
    assert line_of(march, veteran).held and line_of(march, veteran).back_pay_fen == 0
    resume = db.session.scalars(select(PayStateEvent).where(PayStateEvent.back_pay_fen > 0)).one()
    assert resume.paid_in_run_id is None  # still owed
    event(veteran, "resume", date(2026, 4, 1))
    april = run_for(world, month=date(2026, 4, 1))
    assert line_of(april, veteran).back_pay_fen == 300_000
    db.session.refresh(resume)
    assert resume.paid_in_run_id == april.id


def test_a_retroactive_cut_never_pays_a_negative_amount_and_is_deducted_later(world):
    veteran = paid_veteran(world, base=300_000)
    run_for(world, month=date(2026, 1, 1))
    run_for(world, month=date(2026, 2, 1))
    add_amount(veteran, "base", 100_000, date(2026, 1, 1))  # a cut from January: 2 × 2000 yuan overpaid
    march = run_for(world, month=date(2026, 3, 1))
    line = line_of(march, veteran)
    assert line.held and "negative" in line.exceptions and line.net_fen == 0 and line.carry_fen == 300_000
    assert march.total_fen == 0
    assert not db.session.scalar(select(func.sum(FundingTotal.amount_fen)).where(FundingTotal.run_id == march.id))
    april = run_for(world, month=date(2026, 4, 1))
    line = line_of(april, veteran)
    assert (line.base_fen, line.deduction_fen, line.net_fen, line.central_fen, line.local_fen) == (
        100_000,
        100_000,
        0,
        0,
        0,
    )
    assert db.session.scalar(select(func.sum(FundingTotal.amount_fen)).where(FundingTotal.run_id == april.id)) == 0
    run_for(world, month=date(2026, 5, 1))
    run_for(world, month=date(2026, 6, 1))
    july = run_for(world, month=date(2026, 7, 1))
    assert (line_of(july, veteran).deduction_fen, line_of(july, veteran).net_fen) == (0, 100_000)
