"""Review fixes of issue 18 (low): run months bounded, a stuck computing run cancellable, the note's label, funding
export numbers."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from freezegun import freeze_time
from sqlalchemy import update

from backend.db import transaction, utcnow
from backend.errors import ValidationFailed
from backend.extensions import db
from backend.pension import funding, payroll
from backend.pension.models import FundingTotal, PayrollRun
from tests.pension.payroll_fixtures import paid_veteran


def test_run_months_are_bounded_to_three_back_and_one_ahead(world, monkeypatch):
    monkeypatch.setattr("backend.pension.payroll_job.start_job", lambda run_id: None)
    with freeze_time("2026-05-10 04:00:00"):
        for month in (date(2026, 1, 1), date(2026, 7, 1)):
            with pytest.raises(ValidationFailed) as refused:
                payroll.start_run(actor=world.staff_x, unit_id=world.x.id, month=month)
            assert "2026-02 至 2026-06" in refused.value.details["month"]
        assert payroll.start_run(actor=world.staff_x, unit_id=world.x.id, month=date(2026, 6, 1)).state == "queued"


def _computing(world, minutes_ago, month):
    with transaction():
        run = PayrollRun(
            unit_id=world.x.id, month=month, number=f"S-{minutes_ago}", state="computing", maker_id=world.staff_x.id
        )
        db.session.add(run)
    with transaction():
        db.session.execute(
            update(PayrollRun)
            .where(PayrollRun.id == run.id)
            .values(updated_at=utcnow() - timedelta(minutes=minutes_ago))
        )
    return run


def test_a_stuck_computing_run_can_be_cancelled_a_live_one_cannot(world):
    live = _computing(world, 1, date(2026, 1, 1))
    with pytest.raises(payroll.RunInvalidState):
        payroll.cancel_run(actor=world.staff_x, run_id=live.id)
    stuck = _computing(world, payroll.STUCK_MINUTES + 5, date(2026, 2, 1))
    assert payroll.cancel_run(actor=world.staff_x, run_id=stuck.id).state == "cancelled"


def test_the_suspension_note_is_labelled_as_told_to_the_veteran(world, portal):
    veteran = paid_veteran(world)
    portal.login(world.staff_x)
    page = portal.get(f"/pension/veterans/{veteran.id}", expect=200).text
    assert "告知本人的说明" in page


def test_funding_export_writes_yuan_as_numbers(world):
    with transaction():
        run = PayrollRun(
            unit_id=world.x.id, month=date(2026, 1, 1), number="F-1", state="confirmed", maker_id=world.staff_x.id
        )
        db.session.add(run)
        db.session.flush()
        db.session.add(
            FundingTotal(
                run_id=run.id,
                month=run.month,
                station_id=world.x1.id,
                station_path=world.x1.path,
                component="deduction",
                funding="local",
                amount_fen=-12_345,
                veteran_count=1,
            )
        )
    rows = list(funding.funding_export(world.supervisor_parent, {"year": "2026", "unit": world.x.id}).rows)
    assert rows[0][2] == "扣减" and rows[0][5] == Decimal("-123.45") and isinstance(rows[-1][5], Decimal)
