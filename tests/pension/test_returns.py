"""Return files and the follow-up list (issue 18, part 3): paid/failed, rejects, idempotency, carry next month."""

from datetime import date

import pytest
from sqlalchemy import select

from backend.db import transaction
from backend.extensions import db
from backend.pension import funding, returns
from backend.pension.models import FundingTotal, PayAccount
from tests.pension.payroll_fixtures import MONTH, inline_jobs, line_of, paid_veteran, run_for

__all__ = ["inline_jobs"]
pytestmark = pytest.mark.usefixtures("inline_jobs")


def _csv(*rows):
    return ("\n".join(["序号,账号,结果,原因", *rows]) + "\n").encode("utf-8")


def test_return_marks_paid_and_failed_with_rejects_and_is_idempotent(world):
    a = paid_veteran(world, account="6228480000000000017")
    b = paid_veteran(world, base=100_000, account="6228480000000000025")
    run = run_for(world)
    content = _csv("1,6228480000000000017,成功,", "2,,失败,账户已销户", "3,,成功,", "1,,成功,", "x,,失败,")
    record, duplicate = returns.import_return(actor=world.staff_x, run_id=run.id, filename="r.csv", content=content)
    assert not duplicate and (record.paid_count, record.failed_count) == (1, 1)
    assert [r["row"] for r in record.rejected] == [4, 5, 6]
    assert line_of(run, a).status == "paid"
    assert (line_of(run, b).status, line_of(run, b).bank_reason) == ("failed", "账户已销户")
    again, duplicate = returns.import_return(actor=world.staff_x, run_id=run.id, filename="r.csv", content=content)
    assert duplicate and again.id == record.id
    totals = db.session.scalars(select(FundingTotal).where(FundingTotal.run_id == run.id)).all()
    assert sum(t.amount_fen for t in totals) == 300_000  # the failed payment left the totals


def test_account_mismatch_is_rejected(world):
    a = paid_veteran(world, account="6228480000000000017")
    run = run_for(world)
    record, _ = returns.import_return(
        actor=world.staff_x, run_id=run.id, filename="r.csv", content=_csv("1,6228480000000000099,成功,")
    )
    assert record.paid_count == 0 and record.rejected[0]["reason"] == "账号与名册不符"
    assert line_of(run, a).status == "pending"


def test_bad_file_is_refused(world):
    paid_veteran(world)
    run = run_for(world)
    with pytest.raises(returns.ReturnInvalid):
        returns.import_return(actor=world.staff_x, run_id=run.id, filename="r.csv", content=b"a,b\n1,2\n")


def test_fixed_failure_is_carried_into_next_month(world):
    veteran = paid_veteran(world, base=200_000, allowance=10_000)
    march = run_for(world)
    returns.import_return(actor=world.staff_x, run_id=march.id, filename="r.csv", content=_csv("1,,失败,户名不符"))
    failed = line_of(march, veteran)
    rows, _ = returns.list_failures(actor=world.staff_x)
    assert [r[0].id for r in rows] == [failed.id]
    assert returns.list_failures(actor=world.staff_y)[0] == []
    with pytest.raises(returns.FailureNotFound):
        returns.mark_fixed(actor=world.staff_y, line_id=failed.id)
    returns.mark_fixed(actor=world.staff_x, line_id=failed.id)
    with pytest.raises(returns.FailureNotFixable):
        returns.mark_fixed(actor=world.staff_x, line_id=failed.id)
    april = run_for(world, month=date(2026, 4, 1))
    line = line_of(april, veteran)
    assert (line.back_pay_fen, line.carried_from_id, line.net_fen) == (210_000, failed.id, 420_000)
    assert line.central_fen == 400_000
    db.session.refresh(failed)
    assert failed.carried and returns.list_failures(actor=world.staff_x)[0] == []
    may = run_for(world, month=date(2026, 5, 1))
    assert line_of(may, veteran).back_pay_fen == 0
    report = funding.report(actor=world.supervisor_parent, unit_id=world.x.id, year=2026)
    back = next(r for r in report.by_component if r.key == "back_pay")
    assert back.by_funding == {"central": 200_000, "local": 10_000}
    assert report.total.total_fen == 210_000 * 2 + 210_000  # March failed: counted in April (as back pay)


def test_no_account_line_fails_at_confirm_and_is_carried_once_fixed(world):
    veteran = paid_veteran(world, account=None)
    run = run_for(world, month=MONTH)
    line = line_of(run, veteran)
    assert (line.status, line.held) == ("failed", True)
    with pytest.raises(returns.FailureNotFixable):
        returns.mark_fixed(actor=world.staff_x, line_id=line.id)
    from backend import pii

    with transaction():
        db.session.add(
            PayAccount(
                veteran_id=veteran.id,
                bank="农商银行",
                holder_name="甲",
                account_last4="0017",
                account_enc=pii.encrypt("6228480000000000017", context="pay_account.number"),
            )
        )
    returns.mark_fixed(actor=world.staff_x, line_id=line.id)
    assert line_of(run_for(world, month=date(2026, 4, 1)), veteran).back_pay_fen == 300_000
