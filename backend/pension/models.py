"""Retirement pay (退役金, Art. 10) and its funding (Art. 22). Money is integer fen everywhere; never floats.

History is append-only: an amount in force for a month is the latest `pay_amount` row per (veteran, component) whose
effective month is not after it. Adjustments append rows (a batch), and a mistaken batch is undone by a compensating
batch, never by editing rows.
"""

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from backend.db import BigId, UTCDateTime, utcnow
from backend.extensions import db

COMPONENTS = ("base", "allowance", "adjustment")  # 基本退役金 | 补贴 | 调整增加额
FUNDING = ("central", "local")
PAY_STATES = ("pending", "active", "suspended", "stopped")  # pending: no start date reached / no amount yet
STATE_ACTIONS = ("start", "suspend", "resume", "stop")
BATCH_RULES = ("percent", "fixed", "table")
BATCH_STATES = ("draft", "previewed", "applied", "cancelled")
RUN_STATES = ("queued", "computing", "ready", "confirmed", "failed", "cancelled")
LINE_STATES = ("pending", "paid", "failed")
EXPORT_FORMATS = ("xlsx", "csv", "fixed")


def _in(column, values):
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class PayProfile(db.Model):
    """One per paid veteran: the pay state, the category adjustments use, the start date."""

    __tablename__ = "pay_profile"
    __table_args__ = (
        Index("ix_pay_profile_station_id_veteran_id", "station_id", "veteran_id"),
        Index("ix_pay_profile_state", "state"),
        CheckConstraint(_in("state", PAY_STATES), name="state_known"),
    )

    veteran_id: Mapped[int] = mapped_column(ForeignKey("veteran.id", ondelete="CASCADE"), primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"))  # scope (the veteran's station)
    category: Mapped[str | None] = mapped_column(String(20))  # the department's category for table adjustments
    state: Mapped[str] = mapped_column(String(10), default="pending")
    state_since: Mapped[object | None] = mapped_column(Date)  # the effective date of the current state
    state_reason: Mapped[str | None] = mapped_column(String(30))  # a pay_rule code, or "manual"
    state_note: Mapped[str | None] = mapped_column(String(300))  # shown to the veteran when suspended
    pay_start_on: Mapped[object | None] = mapped_column(Date)  # from the placement date
    updated_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    version_id: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version_id}


class PayAccount(db.Model):
    """The payee bank account. The number is sealed (backend/pii), shown masked, revealed with an audit."""

    __tablename__ = "pay_account"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)  # key rotation re-seals by id ranges
    veteran_id: Mapped[int] = mapped_column(ForeignKey("veteran.id", ondelete="CASCADE"), unique=True)
    bank: Mapped[str] = mapped_column(String(60))  # e.g. 中国农业银行
    branch: Mapped[str | None] = mapped_column(String(100))  # 开户网点
    account_enc: Mapped[str] = mapped_column(String(200))
    account_last4: Mapped[str] = mapped_column(String(4))
    holder_name: Mapped[str] = mapped_column(String(64))
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    updated_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class PayAmount(db.Model):
    """One component's monthly amount from `effective_month` on (append-only history)."""

    __tablename__ = "pay_amount"
    __table_args__ = (
        Index("ix_pay_amount_veteran_component_month", "veteran_id", "component", "effective_month", "id"),
        Index("ix_pay_amount_batch_id", "batch_id"),
        CheckConstraint(_in("component", COMPONENTS), name="component_known"),
        CheckConstraint(_in("funding", FUNDING), name="funding_known"),
        CheckConstraint("amount_fen >= 0", name="amount_not_negative"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    veteran_id: Mapped[int] = mapped_column(ForeignKey("veteran.id", ondelete="CASCADE"))
    component: Mapped[str] = mapped_column(String(12))
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    funding: Mapped[str] = mapped_column(String(8))  # central | local (Art. 22)
    effective_month: Mapped[object] = mapped_column(Date)  # always the first day of a month
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("pay_adjustment_batch.id"))  # None: set by hand
    note: Mapped[str | None] = mapped_column(String(200))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)


class PayStateEvent(db.Model):
    """Start, suspension, resumption, stop: the dates back pay is computed from."""

    __tablename__ = "pay_state_event"
    __table_args__ = (
        Index("ix_pay_state_event_veteran_id_id", "veteran_id", "id"),
        CheckConstraint(_in("action", STATE_ACTIONS), name="action_known"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    veteran_id: Mapped[int] = mapped_column(ForeignKey("veteran.id", ondelete="CASCADE"))
    action: Mapped[str] = mapped_column(String(8))
    effective_on: Mapped[object] = mapped_column(Date)
    reason: Mapped[str | None] = mapped_column(String(30))  # pay_rule code or "manual"
    note: Mapped[str | None] = mapped_column(String(300))
    registration_year: Mapped[int | None] = mapped_column()  # registration_overdue: the year whose lapse suspended
    back_pay_fen: Mapped[int | None] = mapped_column(BigInteger)  # resume: owed for the suspended months
    # The payroll run whose line pays this resume event's back pay; None while unpaid (the next run picks it up).
    paid_in_run_id: Mapped[int | None] = mapped_column(ForeignKey("payroll_run.id", ondelete="SET NULL"))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))  # None: a rule applied by the system
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)


class PayRule(db.Model):
    """A reason pay stops or is suspended, configurable as data (death, re-enlistment, public post, registration
    not approved in time)."""

    __tablename__ = "pay_rule"
    __table_args__ = (CheckConstraint("action IN ('suspend', 'stop')", name="action_known"),)

    code: Mapped[str] = mapped_column(String(30), primary_key=True)
    label: Mapped[str] = mapped_column(String(60))
    action: Mapped[str] = mapped_column(String(8))  # suspend | stop
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    automatic: Mapped[bool] = mapped_column(Boolean, default=False)  # applied by a job (registration_overdue)
    params: Mapped[dict] = mapped_column(JSON, default=dict)  # e.g. {"grace_days": 30}
    message: Mapped[str | None] = mapped_column(String(300))  # what the veteran is told
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    updated_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class AdjustmentBatch(db.Model):
    """An adjustment: a rule over a scope from an effective month, previewed by its maker, applied by a checker."""

    __tablename__ = "pay_adjustment_batch"
    __table_args__ = (
        Index("ix_pay_adjustment_batch_unit_id_id", "unit_id", "id"),
        CheckConstraint(_in("rule", BATCH_RULES), name="rule_known"),
        CheckConstraint(_in("state", BATCH_STATES), name="state_known"),
        CheckConstraint(_in("component", COMPONENTS), name="component_known"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"))  # the batch's scope root
    title: Mapped[str] = mapped_column(String(100))
    doc_ref: Mapped[str] = mapped_column(String(100))  # 文号
    rule: Mapped[str] = mapped_column(String(8))
    params: Mapped[dict] = mapped_column(JSON, default=dict)  # percent: {"percent": "3.5"}; fixed: {"fen": 1000}
    component: Mapped[str] = mapped_column(String(12), default="base")  # the component the rule changes
    effective_month: Mapped[object] = mapped_column(Date)
    unit_ids: Mapped[list] = mapped_column(JSON, default=list)  # sub-units; [] = the whole subtree of unit_id
    categories: Mapped[list] = mapped_column(JSON, default=list)  # [] = every category
    state: Mapped[str] = mapped_column(String(10), default="draft")
    compensates_id: Mapped[int | None] = mapped_column(ForeignKey("pay_adjustment_batch.id"))
    line_count: Mapped[int] = mapped_column(default=0)
    total_delta_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    maker_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))  # whoever previewed last
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))  # never the checker either
    previewer_ids: Mapped[list] = mapped_column(JSON, default=list)  # everyone who ever previewed: never the checker
    previewed_at: Mapped[object | None] = mapped_column(UTCDateTime)
    checker_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))  # never the maker
    applied_at: Mapped[object | None] = mapped_column(UTCDateTime)
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)
    version_id: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version_id}


class AdjustmentLine(db.Model):
    """One veteran's old and new amount in a batch's preview; applying writes exactly these."""

    __tablename__ = "pay_adjustment_line"
    __table_args__ = (
        UniqueConstraint("batch_id", "veteran_id", name="uq_pay_adjustment_line_batch_veteran"),
        Index("ix_pay_adjustment_line_batch_id_id", "batch_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("pay_adjustment_batch.id", ondelete="CASCADE"))
    veteran_id: Mapped[int] = mapped_column(ForeignKey("veteran.id", ondelete="CASCADE"))
    old_fen: Mapped[int] = mapped_column(BigInteger)
    new_fen: Mapped[int] = mapped_column(BigInteger)
    funding: Mapped[str] = mapped_column(String(8))


class BankLayout(db.Model):
    """A bank's file layout as data: the columns (field, header, width, alignment) and the format."""

    __tablename__ = "pay_bank_layout"
    __table_args__ = (CheckConstraint(_in("format", EXPORT_FORMATS), name="format_known"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(60), unique=True)
    bank: Mapped[str] = mapped_column(String(60))
    format: Mapped[str] = mapped_column(String(6))
    encoding: Mapped[str] = mapped_column(String(12), default="utf-8")  # gb18030 for banks that ask for it
    columns: Mapped[list] = mapped_column(JSON, default=list)  # [{"field", "header", "width", "align"}]
    checksum_line: Mapped[bool] = mapped_column(Boolean, default=True)  # text formats: a trailer with count and sum
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)


class PayrollRun(db.Model):
    """A month's payroll (发放名册) for a unit's subtree: computed by a job, confirmed by a second person."""

    __tablename__ = "payroll_run"
    __table_args__ = (
        Index("ix_payroll_run_unit_id_id", "unit_id", "id"),
        UniqueConstraint("number", name="uq_payroll_run_number"),
        CheckConstraint(_in("state", RUN_STATES), name="state_known"),
        # one live (not cancelled) run per unit and month
        Index(
            "uq_payroll_run_live_unit_month",
            "unit_id",
            "month",
            unique=True,
            postgresql_where=text("state <> 'cancelled'"),
            sqlite_where=text("state <> 'cancelled'"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"))
    month: Mapped[object] = mapped_column(Date)  # first day of the month paid
    number: Mapped[str] = mapped_column(String(40))  # e.g. 320100-202611-01: never reused
    state: Mapped[str] = mapped_column(String(10), default="queued")
    maker_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    checker_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))  # never the maker
    confirmed_at: Mapped[object | None] = mapped_column(UTCDateTime)
    total_rows: Mapped[int] = mapped_column(default=0)
    processed_rows: Mapped[int] = mapped_column(default=0)  # progress of the job
    exception_count: Mapped[int] = mapped_column(default=0)
    total_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    export_sha256: Mapped[str | None] = mapped_column(String(64))  # the first export's digest: re-exports match it
    export_layout_id: Mapped[int | None] = mapped_column(ForeignKey("pay_bank_layout.id"))
    export_layout: Mapped[dict | None] = mapped_column(JSON)  # the layout as first exported: re-exports use this copy
    exported_at: Mapped[object | None] = mapped_column(UTCDateTime)
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[object | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)  # the job's heartbeat
    version_id: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version_id}


class PayrollLine(db.Model):
    """One veteran in a run: the month's amount by component and funding, back pay, deductions, the bank result."""

    __tablename__ = "payroll_line"
    __table_args__ = (
        UniqueConstraint("run_id", "veteran_id", name="uq_payroll_line_run_veteran"),
        Index("ix_payroll_line_veteran_id_id", "veteran_id", "id"),
        Index("ix_payroll_line_run_id_station_id", "run_id", "station_id"),
        CheckConstraint(_in("status", LINE_STATES), name="status_known"),
        # the follow-up list: failed payments not yet carried into a later run (few rows)
        Index(
            "ix_payroll_line_open_failures",
            "station_id",
            "id",
            postgresql_where=text("status = 'failed' AND NOT carried"),
            sqlite_where=text("status = 'failed' AND NOT carried"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("payroll_run.id", ondelete="CASCADE"))
    veteran_id: Mapped[int] = mapped_column(ForeignKey("veteran.id"))
    station_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"))
    base_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    allowance_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    adjustment_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    back_pay_fen: Mapped[int] = mapped_column(BigInteger, default=0)  # resumed months and carried failures
    deduction_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    net_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    central_fen: Mapped[int] = mapped_column(BigInteger, default=0)  # of net: the central share
    local_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    base_funding: Mapped[str | None] = mapped_column(String(8))  # each component's source, for the funding totals
    allowance_funding: Mapped[str | None] = mapped_column(String(8))
    adjustment_funding: Mapped[str | None] = mapped_column(String(8))
    back_pay_central_fen: Mapped[int] = mapped_column(BigInteger, default=0)  # of back_pay_fen (the rest is local)
    exceptions: Mapped[list] = mapped_column(JSON, default=list)  # codes: no_account, suspended, overdue, jump
    held: Mapped[bool] = mapped_column(Boolean, default=False)  # an exception that keeps the line out of the file
    account_enc: Mapped[str | None] = mapped_column(String(200))  # the account as it was at the run (sealed)
    bank: Mapped[str | None] = mapped_column(String(60))
    holder_name: Mapped[str | None] = mapped_column(String(64))
    veteran_name: Mapped[str | None] = mapped_column(String(64))  # the name at compute time: re-exports match
    # an overpayment (a retroactive cut larger than what is due) left over on a held line: deducted from later runs
    carry_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    status: Mapped[str] = mapped_column(String(8), default="pending")
    bank_reason: Mapped[str | None] = mapped_column(String(200))
    carried_from_id: Mapped[int | None] = mapped_column(ForeignKey("payroll_line.id"))  # a failure paid again
    carried: Mapped[bool] = mapped_column(Boolean, default=False)  # this failure went into a later run
    fixed_at: Mapped[object | None] = mapped_column(UTCDateTime)  # a failure marked fixed: the next run carries it
    fixed_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    settled_at: Mapped[object | None] = mapped_column(UTCDateTime)


class PayrollReturn(db.Model):
    """A bank return file imported against a run: counts and the rows it could not match."""

    __tablename__ = "payroll_return"
    __table_args__ = (Index("ix_payroll_return_run_id", "run_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("payroll_run.id", ondelete="CASCADE"))
    filename: Mapped[str] = mapped_column(String(200))
    sha256: Mapped[str] = mapped_column(String(64))
    paid_count: Mapped[int] = mapped_column(default=0)
    failed_count: Mapped[int] = mapped_column(default=0)
    rejected: Mapped[list] = mapped_column(JSON, default=list)  # [{"row": n, "reason": "..."}]
    imported_by_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    imported_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)


class FundingTotal(db.Model):
    """Confirmed payroll totals per (month, station, component, funding): the funding figures read these."""

    __tablename__ = "pay_funding_total"
    __table_args__ = (
        UniqueConstraint("run_id", "station_id", "component", "funding", name="uq_pay_funding_total_key"),
        Index("ix_pay_funding_total_month_station", "month", "station_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("payroll_run.id", ondelete="CASCADE"))
    month: Mapped[object] = mapped_column(Date)
    station_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"))
    station_path: Mapped[str] = mapped_column(String(255))  # for subtree sums by prefix
    component: Mapped[str] = mapped_column(String(12))  # base | allowance | adjustment | back_pay
    funding: Mapped[str] = mapped_column(String(8))
    amount_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    veteran_count: Mapped[int] = mapped_column(default=0)
