"""Helpers of the payroll tests (issue 18, part 3): paid veterans written directly (profile, amounts, account), a
second checker, and runs computed in-process (the job's enqueue replaced by a direct call)."""

from datetime import date

import pytest

from backend import pii
from backend.db import transaction
from backend.extensions import db
from backend.pension import payroll, payroll_job
from backend.pension.models import PayAccount, PayAmount, PayProfile, PayStateEvent
from tests.factories import create_staff, create_veteran

MONTH = date(2026, 3, 1)


@pytest.fixture
def inline_jobs(monkeypatch):
    """The payroll job runs inside the request/service call instead of a worker; runs of 2025–2026 months may be
    started whatever today is (test_payroll_rules.py checks the real bounds)."""
    monkeypatch.setattr("backend.tasks.enqueue", lambda task, *args, **kw: task.run(*args))
    monkeypatch.setattr("backend.pension.payroll.MONTHS_BACK", 120, raising=False)
    monkeypatch.setattr("backend.pension.payroll.MONTHS_AHEAD", 120, raising=False)


def paid_veteran(
    world,
    *,
    base=300_000,
    allowance=0,
    funding=("central", "local"),
    start=date(2025, 1, 1),
    account="6228480012345678901",
    state="active",
    station=None,
):
    veteran = create_veteran(station=station or world.x1)
    with transaction():
        db.session.add(
            PayProfile(veteran_id=veteran.id, station_id=veteran.station_id, state=state, pay_start_on=start)
        )
        db.session.add(PayStateEvent(veteran_id=veteran.id, action="start", effective_on=start))
        add_amount(veteran, "base", base, start, funding[0])
        if allowance:
            add_amount(veteran, "allowance", allowance, start, funding[1])
        if account:
            db.session.add(
                PayAccount(
                    veteran_id=veteran.id,
                    bank="农商银行",
                    account_enc=pii.encrypt(account, context="pay_account.number"),
                    account_last4=account[-4:],
                    holder_name=veteran.name,
                )
            )
    return veteran


def add_amount(veteran, component, fen, month, funding="central"):
    with transaction():
        db.session.add(
            PayAmount(
                veteran_id=veteran.id, component=component, amount_fen=fen, funding=funding, effective_month=month
            )
        )


def event(veteran, action, on, back_pay_fen=None):
    with transaction():
        db.session.add(PayStateEvent(veteran_id=veteran.id, action=action, effective_on=on, back_pay_fen=back_pay_fen))


def checker(world):
    return create_staff(unit=world.x, roles=("center_reviewer",))


def run_for(world, month=MONTH, unit=None, confirm=True):
    """Start (staff_x), compute (inline) and confirm (another reviewer) a run."""
    run = payroll.start_run(actor=world.staff_x, unit_id=(unit or world.x).id, month=month)
    payroll_job.compute(run.id)
    db.session.refresh(run)
    if confirm:
        payroll.confirm_run(actor=world.objects.setdefault("checker", checker(world)), run_id=run.id)
        db.session.refresh(run)
    return run


def line_of(run, veteran):
    from sqlalchemy import select

    from backend.pension.models import PayrollLine

    return db.session.scalars(
        select(PayrollLine).where(PayrollLine.run_id == run.id, PayrollLine.veteran_id == veteran.id)
    ).first()
