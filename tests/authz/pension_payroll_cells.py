"""Issue 18, part 3: authorization matrix cells of the payroll runs, bank layouts and funding pages. A confirmed run
of county X (made by another person) with one failed line of veteran A at X1 is made on first use: out of staff_y's
scope (404). Viewing needs pension.view; starting, cancelling, return files and fixing failures pension.batch;
confirming pension.approve; the bank file pension.batch or pension.approve; layouts pension.rules; totals
funding.view."""

from tests.authz.cells import Cell

VIEWERS = ("staff_x", "staff_y", "supervisor_parent")  # pension.view / funding.view: lists answer within each scope
VIEWERS_OF_X = ("staff_x", "supervisor_parent")
HANDLERS_OF_X = ("staff_x",)  # pension.batch / pension.approve with X in the subtree
RULES = ("sys_admin", "sys_admin_y")


def _run(w):
    if "payroll_run" not in w.objects:
        from datetime import date

        from backend.db import transaction, utcnow
        from backend.extensions import db
        from backend.pension.models import BankLayout, PayrollLine, PayrollRun

        with transaction():
            run = PayrollRun(
                unit_id=w.x.id,
                month=date(2026, 1, 1),
                number=f"{w.x.id}-202601-01",
                state="confirmed",
                maker_id=w.target.id,
                checker_id=w.staff_x.id,
                confirmed_at=utcnow(),
            )
            db.session.add(run)
            db.session.flush()
            line = PayrollLine(
                run_id=run.id,
                veteran_id=w.veteran.id,
                station_id=w.x1.id,
                net_fen=100,
                base_fen=100,
                status="failed",
                bank_reason="矩阵",
            )
            db.session.add(line)
            ready = PayrollRun(  # a run waiting for its checker: the confirm and cancel forms are on offer
                unit_id=w.x.id,
                month=date(2026, 2, 1),
                number=f"{w.x.id}-202602-01",
                state="ready",
                maker_id=w.target.id,
            )
            db.session.add(ready)
        w.objects["payroll_run"], w.objects["payroll_line"], w.objects["ready_run"] = run, line, ready
        w.objects["bank_layout"] = db.session.query(BankLayout).order_by(BankLayout.id).first()
    return w.objects["payroll_run"]


def _url(suffix=""):
    return lambda w: f"/pension/payroll/{_run(w).id}{suffix}"


PENSION_PAYROLL_CELLS = {
    ("portal", "pension.payroll_index", "GET"): Cell("GET", lambda w: _run(w) and "/pension/payroll", VIEWERS),
    ("portal", "pension.payroll_index", "POST"): Cell(
        "POST",
        "/pension/payroll",
        HANDLERS_OF_X,
        data=lambda w: {"unit": str(w.x1.id), "month": "2026-02"},
        notes="staff_y: the unit is out of scope (404); the job is enqueued (a no-op in the matrix)",
    ),
    ("portal", "pension.payroll_run", "GET"): Cell(
        "GET", lambda w: _run(w) and f"/pension/payroll/{w.ready_run.id}", VIEWERS_OF_X, notes="the ready run"
    ),
    ("portal", "pension.payroll_bank", "GET"): Cell("GET", _url("/bank"), VIEWERS_OF_X),
    ("portal", "pension.payroll_confirm", "POST"): Cell(
        "POST", _url("/confirm"), HANDLERS_OF_X, notes="already confirmed: a flash message (past authorization)"
    ),
    ("portal", "pension.payroll_cancel", "POST"): Cell(
        "POST", _url("/cancel"), HANDLERS_OF_X, notes="confirmed: a flash message"
    ),
    ("portal", "pension.payroll_export", "POST"): Cell(
        "POST",
        _url("/export"),
        HANDLERS_OF_X,
        data=lambda w: {"layout": str(_run(w) and w.bank_layout.id)},
        notes="the supervisor views but may not download account numbers (403)",
    ),
    ("portal", "pension.payroll_return", "POST"): Cell(
        "POST", _url("/returns"), HANDLERS_OF_X, notes="no file: a flash message"
    ),
    ("portal", "pension.payroll_failures", "GET"): Cell(
        "GET", lambda w: _run(w) and "/pension/payroll/failures", VIEWERS
    ),
    ("portal", "pension.payroll_failure_fixed", "POST"): Cell(
        "POST",
        lambda w: _run(w) and f"/pension/payroll/failures/{w.payroll_line.id}/fixed",
        HANDLERS_OF_X,
        notes="no bank account: a flash message",
    ),
    ("portal", "pension.layout_index", "GET"): Cell("GET", "/pension/layouts", RULES),
    ("portal", "pension.layout_edit", "GET"): Cell("GET", "/pension/layouts/new", RULES),
    ("portal", "pension.layout_edit", "POST"): Cell(
        "POST",
        "/pension/layouts/new",
        RULES,
        data={"name": "矩阵格式", "bank": "矩阵银行", "format": "csv", "encoding": "utf-8", "columns": "seq|序号"},
    ),
    ("portal", "pension.funding_index", "GET"): Cell("GET", "/pension/funding", VIEWERS),
    ("portal", "pension.funding_export", "POST"): Cell("POST", "/pension/funding/export", VIEWERS),
}
