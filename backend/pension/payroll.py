"""Monthly payroll runs (发放名册): start (maker), list and read (scoped), cancel, confirm (checker ≠ maker).

A run covers a unit's subtree for one month; its number "<unit id>-YYYYMM-NN" is never reused (cancelled runs keep
theirs). At most one live (not cancelled) run per unit and month, and no live run of an ancestor or descendant unit
for the same month (a veteran is never paid twice). Lines are computed by the background job (payroll_job.py);
confirming writes the funding totals (funding.py) and settles the carried failures and the resumed back pay.
"""

from datetime import date, timedelta

from sqlalchemy import String, and_, cast, func, or_, select, update

from backend.audit import service as audit_service
from backend.db import after_commit, transaction, utcnow
from backend.errors import NotFound, RuleViolation, ValidationFailed
from backend.extensions import db
from backend.orgs.models import OrgUnit
from backend.orgs.scope import get_scoped, get_unit_in_scope, require_permission, subtree_unit_ids
from backend.pension.models import PayrollLine, PayrollRun, PayStateEvent

EXCEPTION_LABELS = {
    "no_account": "无收款账户",
    "suspended": "暂停发放",
    "overdue": "年度确认逾期",
    "jump": "金额变动超过阈值",
    "negative": "应发为负（转以后月份扣减）",
}
STATE_LABELS = {
    "queued": "排队中",
    "computing": "计算中",
    "ready": "待复核确认",
    "confirmed": "已确认",
    "failed": "计算失败",
    "cancelled": "已作废",
}
STATUS_LABELS = {"pending": "待银行回盘", "paid": "已发放", "failed": "发放失败"}
NO_ACCOUNT_REASON = "未登记收款账户，未发放"
OPEN_STATES = ("queued", "computing", "ready")
MONTHS_BACK, MONTHS_AHEAD = 3, 1
STUCK_MINUTES = 30  # a run "computing" without progress this long may be cancelled (its worker died)
PAGE = 50


class RunNotFound(NotFound):
    code = "pension.run_not_found"
    message = "未找到该发放名册"


class RunExists(RuleViolation):
    code = "pension.run_exists"
    message = "该单位（或其上下级单位）本月已有发放名册，请先作废原名册"


class RunOpen(RuleViolation):
    code = "pension.run_open"
    message = "本单位（或其上下级单位）另有月份的发放名册尚未确认，请先确认或作废该名册，再编制新的名册"


class RunInvalidState(RuleViolation):
    code = "pension.run_invalid_state"
    message = "发放名册当前状态不允许此操作，请刷新后重试"


class CheckerIsMaker(RuleViolation):
    code = "pension.checker_is_maker"
    message = "发放名册须由编制人以外的另一位复核人员确认"


def parse_month(text):
    """'2026-11' -> date(2026, 11, 1). :raises ValidationFailed:"""
    try:
        year, month = (int(part) for part in str(text or "").strip()[:7].split("-"))
        return date(year, month, 1)
    except (TypeError, ValueError):
        raise ValidationFailed(details={"month": "请选择发放月份（如 2026-11）"}) from None


def _overlapping(unit):
    """A select of runs whose unit is the unit, an ancestor or a descendant."""
    path = unit.path
    return (
        select(PayrollRun.id)
        .join(OrgUnit, OrgUnit.id == PayrollRun.unit_id)
        .where(
            or_(
                OrgUnit.path.startswith(path, autoescape=True),
                func.substr(path, 1, func.length(OrgUnit.path)) == OrgUnit.path,
            )
        )
        .limit(1)
    )


def _live_overlap(unit, month):
    """A live run of the month whose unit is the unit, an ancestor or a descendant."""
    return db.session.scalars(
        _overlapping(unit).where(PayrollRun.month == month, PayrollRun.state != "cancelled")
    ).first()


def _open_overlap(unit, month):
    """A run of another month of an overlapping unit still awaiting confirmation: back pay (retroactive, resumed) is
    claimed from confirmed runs, so two open runs would both pay it."""
    return db.session.scalars(
        _overlapping(unit).where(PayrollRun.month != month, PayrollRun.state.in_(OPEN_STATES))
    ).first()


def _lock_root(unit):
    """Lock the root of the unit's tree: run starts of one tree (a parent and a child at once) are serialized."""
    root_id = int(unit.path.strip("/").split("/")[0])
    db.session.execute(select(OrgUnit.id).where(OrgUnit.id == root_id).with_for_update())


def check_month(month, *, today=None):
    """Runs are for the current month −MONTHS_BACK … +MONTHS_AHEAD. :raises ValidationFailed:"""
    from backend.pension.amounts import add_months, first_of_month
    from backend.registration.windows import today_cst

    current = first_of_month(today or today_cst())
    low, high = add_months(current, -MONTHS_BACK), add_months(current, MONTHS_AHEAD)
    if not low <= month <= high:
        raise ValidationFailed(
            details={"month": f"发放月份须在 {low:%Y-%m} 至 {high:%Y-%m} 之间（本月前{MONTHS_BACK}个月至下月）"}
        )


def start_run(*, actor, unit_id, month):
    """Queue a run of `unit_id`'s subtree for `month` (a date or 'YYYY-MM'). :raises PermissionDenied,
    OrgUnitNotFound, ValidationFailed, RunExists:"""
    require_permission(actor, "pension.batch")
    month = parse_month(month) if isinstance(month, str) else date(month.year, month.month, 1)
    with transaction():
        unit = get_unit_in_scope(actor, unit_id)  # out of scope is not-found before anything else
        check_month(month)
        _lock_root(unit)  # serializes run starts of the whole tree
        if _live_overlap(unit, month) is not None:
            raise RunExists()
        if _open_overlap(unit, month) is not None:
            raise RunOpen()
        used = db.session.scalar(
            select(func.count()).select_from(PayrollRun).where(PayrollRun.unit_id == unit.id, PayrollRun.month == month)
        )
        run = PayrollRun(
            unit_id=unit.id, month=month, number=f"{unit.id}-{month:%Y%m}-{used + 1:02d}", maker_id=actor.id
        )
        db.session.add(run)
        db.session.flush()
        audit_service.record(
            actor=actor,
            action="pension.run_started",
            object_type="payroll_run",
            object_id=run.id,
            details={"number": run.number, "month": f"{month:%Y-%m}"},
        )
        from backend.pension.payroll_job import start_job

        after_commit(start_job, run.id)
    return run


def get_run(*, actor, run_id, lock=False):
    """A run of a unit in the actor's subtree. :raises PermissionDenied, RunNotFound:"""
    require_permission(actor, "pension.view")
    return get_scoped(PayrollRun, run_id, actor=actor, unit_column=PayrollRun.unit_id, not_found=RunNotFound, lock=lock)


def list_runs(*, actor, before=None, limit=PAGE):
    """Runs in scope, newest first, by keyset. :returns: (runs, next_before)"""
    require_permission(actor, "pension.view")
    query = select(PayrollRun).where(PayrollRun.unit_id.in_(subtree_unit_ids(actor)))
    if before:
        query = query.where(PayrollRun.id < before)
    rows = db.session.scalars(query.order_by(PayrollRun.id.desc()).limit(limit + 1)).all()
    return rows[:limit], (rows[limit - 1].id if len(rows) > limit else None)


def lines(run, *, after=None, exceptions_only=False, limit=PAGE):
    """A page of a run's lines in id order (keyset). :returns: (lines, next_after)"""
    query = select(PayrollLine).where(PayrollLine.run_id == run.id)
    if exceptions_only:
        query = query.where(or_(PayrollLine.held.is_(True), _codes() != "[]"))
    if after:
        query = query.where(PayrollLine.id > after)
    rows = db.session.scalars(query.order_by(PayrollLine.id).limit(limit + 1)).all()
    return rows[:limit], (rows[limit - 1].id if len(rows) > limit else None)


def _codes():
    """The exceptions column as its JSON text ("[]" when none), comparable on both engines."""
    return cast(PayrollLine.exceptions, String)


def exception_counts(run):
    """{code: lines with it} of a run: one aggregate over the JSON text of the lines' exception codes."""
    codes = list(EXCEPTION_LABELS)
    counts = [func.count().filter(_codes().like(f'%"{code}"%')) for code in codes]
    row = db.session.execute(select(*counts).where(PayrollLine.run_id == run.id)).one()
    return dict(zip(codes, row, strict=True))


def totals(run):
    """Sums of the run's lines by column (one aggregate query)."""
    row = db.session.execute(
        select(
            func.count(),
            func.coalesce(func.sum(PayrollLine.base_fen), 0),
            func.coalesce(func.sum(PayrollLine.allowance_fen), 0),
            func.coalesce(func.sum(PayrollLine.adjustment_fen), 0),
            func.coalesce(func.sum(PayrollLine.back_pay_fen), 0),
            func.coalesce(func.sum(PayrollLine.deduction_fen), 0),
            func.coalesce(func.sum(PayrollLine.net_fen), 0),
            func.coalesce(func.sum(PayrollLine.central_fen), 0),
            func.coalesce(func.sum(PayrollLine.local_fen), 0),
        ).where(PayrollLine.run_id == run.id)
    ).one()
    keys = ("lines", "base", "allowance", "adjustment", "back_pay", "deduction", "net", "central", "local")
    return dict(zip(keys, row, strict=True))


def veteran_names(rows):
    from backend.veterans.models import Veteran

    ids = {r.veteran_id for r in rows}
    return dict(db.session.execute(select(Veteran.id, Veteran.name).where(Veteran.id.in_(ids))).all()) if ids else {}


def cancel_run(*, actor, run_id):
    """Cancel a run not yet confirmed (its number stays used); a run still "computing" only when it has not moved for
    STUCK_MINUTES (its worker died). :raises RunInvalidState:"""
    require_permission(actor, "pension.batch")
    with transaction():
        run = get_run(actor=actor, run_id=run_id, lock=True)
        stuck = and_(
            PayrollRun.state == "computing", PayrollRun.updated_at < utcnow() - timedelta(minutes=STUCK_MINUTES)
        )
        moved = db.session.execute(
            update(PayrollRun)
            .where(PayrollRun.id == run.id, or_(PayrollRun.state.in_(("queued", "ready", "failed")), stuck))
            .values(state="cancelled", finished_at=utcnow(), version_id=PayrollRun.version_id + 1)
            .execution_options(synchronize_session=False)
        ).rowcount
        if not moved:
            raise RunInvalidState(details={"state": run.state})
        db.session.execute(  # resumed back pay this run would have paid goes to the next run
            update(PayStateEvent).where(PayStateEvent.paid_in_run_id == run.id).values(paid_in_run_id=None)
        )
        audit_service.record(
            actor=actor,
            action="pension.run_cancelled",
            object_type="payroll_run",
            object_id=run.id,
            details={"number": run.number},
        )
    db.session.refresh(run)
    return run


def confirm_run(*, actor, run_id):
    """The checker confirms a ready run: ready -> confirmed by a conditional UPDATE; the funding totals are written,
    carried failures marked carried, lines without an account recorded as failed (the follow-up list).
    :raises PermissionDenied, RunNotFound, CheckerIsMaker, RunInvalidState:"""
    require_permission(actor, "pension.approve")
    from backend.pension import funding

    with transaction():
        run = get_run(actor=actor, run_id=run_id, lock=True)
        if run.maker_id == actor.id:
            raise CheckerIsMaker()
        now = utcnow()
        moved = db.session.execute(
            update(PayrollRun)
            .where(PayrollRun.id == run.id, PayrollRun.state == "ready", PayrollRun.maker_id != actor.id)
            .values(state="confirmed", checker_id=actor.id, confirmed_at=now, version_id=PayrollRun.version_id + 1)
            .execution_options(synchronize_session=False)
        ).rowcount
        if not moved:
            raise RunInvalidState(details={"state": run.state})
        db.session.execute(
            update(PayrollLine)
            .where(PayrollLine.run_id == run.id, PayrollLine.held.is_(True), PayrollLine.net_fen > 0)
            .values(status="failed", bank_reason=NO_ACCOUNT_REASON)
        )
        carried = select(PayrollLine.carried_from_id).where(
            PayrollLine.run_id == run.id, PayrollLine.carried_from_id.is_not(None)
        )
        db.session.execute(
            update(PayrollLine)
            .where(PayrollLine.id.in_(carried))
            .values(carried=True)
            .execution_options(synchronize_session=False)
        )
        funding.write_totals(run.id)
        audit_service.record(
            actor=actor,
            action="pension.run_confirmed",
            object_type="payroll_run",
            object_id=run.id,
            org_path=None,
            details={"number": run.number, "total_fen": run.total_fen, "lines": run.total_rows},
        )
    db.session.expire(run)
    return run


def waiting_for_checker(actor):
    """A select of the runs in scope ready for a checker other than the actor (the workbench card)."""
    return select(PayrollRun.id).where(
        PayrollRun.unit_id.in_(subtree_unit_ids(actor)), PayrollRun.state == "ready", PayrollRun.maker_id != actor.id
    )
