"""What a payroll run owes on top of the month's amount, per batch of veterans (set-based; see payroll_job.py):

- retro(): retroactive amounts recorded after the veteran's last confirmed run (of any month) for months already paid;
- claim_resumed(): resume events' back pay, claimed by one conditional UPDATE … RETURNING for the veterans whose line
  will include it (never for a suspended veteran's held line; of two runs computing at once only one gets an event);
- carries(): failed payments marked fixed, not yet carried by a live run;
- outstanding(): overpayments left on held "negative" lines (carry_fen) of confirmed runs not yet deducted since.
"""

from collections import defaultdict

from sqlalchemy import func, or_, select, update

from backend.extensions import db
from backend.pension.models import COMPONENTS, PayAmount, PayrollLine, PayrollRun, PayStateEvent

DEAD = ("cancelled", "failed")
MONTH_FEN = PayrollLine.base_fen + PayrollLine.allowance_fen + PayrollLine.adjustment_fen


def _confirmed_lines(ids):
    return (
        select(PayrollLine.veteran_id)
        .join(PayrollRun, PayrollRun.id == PayrollLine.run_id)
        .where(PayrollLine.veteran_id.in_(ids), PayrollRun.state == "confirmed")
    )


def retro(ids, *, month, as_of, window_start):
    """{veteran: (back pay, its central share)} for amounts recorded after the veteran's last confirmed run (any
    month: a later month's run already paid what was known when it was started) with an effective month before this
    run's: per earlier month paid, due now minus due as known at that last run."""
    cutoff = (
        _confirmed_lines(ids)
        .with_only_columns(PayrollLine.veteran_id, func.max(PayrollRun.created_at).label("cutoff"))
        .group_by(PayrollLine.veteran_id)
        .subquery()
    )
    candidates = list(
        db.session.scalars(
            select(PayAmount.veteran_id)
            .join(cutoff, cutoff.c.veteran_id == PayAmount.veteran_id)
            .where(PayAmount.effective_month < month, PayAmount.created_at > cutoff.c.cutoff)
            .where(PayAmount.created_at <= as_of)
            .distinct()
        )
    )
    if not candidates:
        return {}
    cutoffs = dict(db.session.execute(select(cutoff.c.veteran_id, cutoff.c.cutoff)).all())
    months = defaultdict(set)
    paid = _confirmed_lines(candidates).add_columns(PayrollRun.month).where(PayrollRun.month < month, MONTH_FEN > 0)
    for row in db.session.execute(paid):
        if row.month >= window_start:
            months[row.veteran_id].add(row.month)
    history = defaultdict(list)
    for row in db.session.execute(
        select(
            PayAmount.veteran_id,
            PayAmount.component,
            PayAmount.amount_fen,
            PayAmount.funding,
            PayAmount.effective_month,
            PayAmount.created_at,
        )
        .where(PayAmount.veteran_id.in_(candidates), PayAmount.created_at <= as_of)
        .order_by(PayAmount.veteran_id, PayAmount.effective_month, PayAmount.id)
    ):
        history[row.veteran_id].append(row)
    out = {}
    for vid in candidates:
        back = central = 0
        for paid_month in months.get(vid, ()):
            now = due(history[vid], paid_month, None)
            then = due(history[vid], paid_month, cutoffs[vid])
            for component in COMPONENTS:
                fen_now, funding = now.get(component) or (0, then.get(component, (0, None))[1])
                delta = fen_now - then.get(component, (0, None))[0]
                back += delta
                central += delta if funding == "central" else 0
        if back:
            out[vid] = (back, central)
    return out


def claim_resumed(ids, *, run_id, month):
    """{veteran: resumed back pay} of the resume events (effective by the end of `month`) not yet claimed by a live
    run, claimed now for this run by one conditional UPDATE … RETURNING (released again if the run is cancelled)."""
    if not ids:
        return {}
    from backend.pension.amounts import add_months

    dead = select(PayrollRun.id).where(PayrollRun.state.in_(DEAD))
    rows = db.session.execute(
        update(PayStateEvent)
        .where(
            PayStateEvent.veteran_id.in_(ids),
            PayStateEvent.action == "resume",
            PayStateEvent.back_pay_fen > 0,
            PayStateEvent.effective_on < add_months(month, 1),
            or_(PayStateEvent.paid_in_run_id.is_(None), PayStateEvent.paid_in_run_id.in_(dead)),
        )
        .values(paid_in_run_id=run_id)
        .returning(PayStateEvent.veteran_id, PayStateEvent.back_pay_fen)
        .execution_options(synchronize_session=False)
    ).all()
    out = defaultdict(int)
    for row in rows:
        out[row.veteran_id] += row.back_pay_fen
    return out


def carries(ids):
    """{veteran: the oldest failed payment marked fixed and not yet carried by a live run} (one per run)."""
    rows = db.session.execute(
        select(PayrollLine.id, PayrollLine.veteran_id, PayrollLine.net_fen, PayrollLine.central_fen)
        .where(PayrollLine.veteran_id.in_(ids), PayrollLine.status == "failed", PayrollLine.carried.is_(False))
        .where(PayrollLine.fixed_at.is_not(None))
        .order_by(PayrollLine.id)
    ).all()
    if not rows:
        return {}  # the usual case: one indexed probe per batch
    taken = set(
        db.session.scalars(
            select(PayrollLine.carried_from_id)
            .join(PayrollRun, PayrollRun.id == PayrollLine.run_id)
            .where(PayrollLine.carried_from_id.in_([r.id for r in rows]))
            .where(PayrollRun.state.not_in(DEAD))
        )
    )
    out = {}
    for row in rows:
        if row.id not in taken:
            out.setdefault(row.veteran_id, row)
    return out


def outstanding(ids):
    """{veteran: overpayment still to deduct}: carry_fen of confirmed lines minus deductions of confirmed lines since
    the first carry (deductions come only from carries)."""
    carried = dict(
        db.session.execute(
            _confirmed_lines(ids)
            .with_only_columns(PayrollLine.veteran_id, func.sum(PayrollLine.carry_fen))
            .where(PayrollLine.carry_fen > 0)
            .group_by(PayrollLine.veteran_id)
        ).all()
    )
    if not carried:
        return {}
    deducted = dict(
        db.session.execute(
            _confirmed_lines(list(carried))
            .with_only_columns(PayrollLine.veteran_id, func.sum(PayrollLine.deduction_fen))
            .group_by(PayrollLine.veteran_id)
        ).all()
    )
    return {vid: left for vid, fen in carried.items() if (left := int(fen) - int(deducted.get(vid) or 0)) > 0}


def due(rows, month, known_at):
    """{component: (fen, funding)} in force in `month` from a veteran's history rows (ordered), counting only rows
    created by `known_at` (None: all)."""
    current = {}
    for row in rows:
        if row.effective_month <= month and (known_at is None or row.created_at <= known_at):
            current[row.component] = (row.amount_fen, row.funding)
    return current
