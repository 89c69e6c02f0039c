"""The bank's return file (回盘文件) and the follow-up list of failed payments.

A return file (CSV or .xlsx, first row a header) names each payment by 序号 (its seq in the bank file)
or by 明细号 (the payroll line id), optionally with 账号 (checked against the line), and gives 结果 (成功/失败)
and 原因. Each matched line becomes paid or failed (with the bank's reason), set-based: per chunk of
1000 lines one UPDATE per (result, reason); rows that cannot be used are listed with their reason
and nothing else changes for them. The file is at most MAX_BYTES; a malformed one (an over-long CSV
field, a broken sheet) is ReturnInvalid. A file is imported once per run (its SHA-256): the same
file again returns the earlier import. Failed payments go to the follow-up list; staff mark one
fixed (e.g. the account corrected) and the next month's run carries it as back pay (payroll_job.py).
"""

import hashlib
import zipfile
from array import array
from collections import defaultdict

from sqlalchemy import select, update

from backend import pii
from backend.audit import service as audit_service
from backend.db import transaction, utcnow
from backend.errors import NotFound, RuleViolation, ValidationFailed
from backend.exports.writer import CsvInvalid, csv_rows
from backend.extensions import db
from backend.orgs.scope import get_scoped, require_permission, subtree_unit_ids
from backend.pension.models import PayAccount, PayrollLine, PayrollReturn, PayrollRun
from backend.pension.payroll import PAGE, RunInvalidState, get_run

HEADERS = {
    "序号": "seq",
    "seq": "seq",
    "明细号": "line",
    "line_id": "line",
    "账号": "account",
    "account": "account",
    "结果": "result",
    "result": "result",
    "原因": "reason",
    "reason": "reason",
}
RESULTS = {"成功": "paid", "success": "paid", "paid": "paid", "失败": "failed", "failed": "failed", "fail": "failed"}
MAX_BYTES = 10 * 1024 * 1024
MAX_REJECTS = 500


class ReturnInvalid(ValidationFailed):
    code = "pension.return_invalid"
    message = "请上传银行回盘文件（.csv 或 .xlsx），首行为表头，须含「序号」或「明细号」列及「结果」列"


class FailureNotFound(NotFound):
    code = "pension.failure_not_found"
    message = "未找到该发放失败记录"


class FailureNotFixable(RuleViolation):
    code = "pension.failure_not_fixable"
    message = "该记录已标记处理或已转入后续名册；无收款账户的须先登记账户"


def _rows(filename, content):
    """(sheet row number, [cells]) of the upload, header first. :raises ReturnInvalid:"""
    if not content or len(content) > MAX_BYTES:
        raise ReturnInvalid()
    if content[:4] == b"PK\x03\x04":
        from backend.veterans.importer import ImportFileInvalid, _open  # the same zip-bomb and DTD checks

        try:
            book = _open(content)
        except ImportFileInvalid:
            raise ReturnInvalid() from None
        try:
            yield from _sheet_rows(book)
        finally:
            book.close()
        return
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = content.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise ReturnInvalid()
    try:
        for number, row in enumerate(csv_rows(text), start=1):
            yield number, [v.strip() for v in row]
    except CsvInvalid:  # e.g. a field over the csv module's limit, a NUL byte
        raise ReturnInvalid() from None


def _sheet_rows(book):
    """The first sheet's rows; anything openpyxl raises while reading a malformed sheet is a ReturnInvalid."""
    try:
        for number, row in enumerate(book.worksheets[0].iter_rows(values_only=True), start=1):
            yield number, ["" if v is None else str(v).strip() for v in row]
    except (ValueError, TypeError, KeyError, IndexError, AttributeError, OSError, zipfile.BadZipFile):
        raise ReturnInvalid() from None


def _file_seqs(run):
    """The line ids of the bank file in order (seq n -> ids[n-1]): 8 bytes per payment."""
    ids, last = array("q"), 0
    query = select(PayrollLine.id).where(
        PayrollLine.run_id == run.id, PayrollLine.held.is_(False), PayrollLine.net_fen > 0
    )
    while batch := db.session.scalars(query.where(PayrollLine.id > last).order_by(PayrollLine.id).limit(5000)).all():
        ids.extend(batch)
        last = batch[-1]
    return ids


def import_return(*, actor, run_id, filename, content):
    """Apply a return file to a confirmed run. :returns: (PayrollReturn, duplicate)
    :raises PermissionDenied, RunNotFound, RunInvalidState, ReturnInvalid:"""
    require_permission(actor, "pension.batch")
    run = get_run(actor=actor, run_id=run_id)
    if run.state != "confirmed":
        raise RunInvalidState(details={"state": run.state})
    sha = hashlib.sha256(content or b"").hexdigest()
    earlier = db.session.scalars(
        select(PayrollReturn).where(PayrollReturn.run_id == run.id, PayrollReturn.sha256 == sha)
    ).first()
    if earlier is not None:
        return earlier, True
    rows = _rows(filename, content)
    header = next(rows, None)
    columns = {HEADERS[h]: i for i, h in enumerate(header[1]) if h in HEADERS} if header else {}
    if "result" not in columns or not ({"seq", "line"} & set(columns)):
        raise ReturnInvalid()
    seqs = _file_seqs(run) if "seq" in columns else None
    outcomes, rejected, seen = {}, [], set()

    def cell(values, key):
        index = columns.get(key)
        return values[index] if index is not None and index < len(values) else ""

    for number, values in rows:
        if not any(values):
            continue
        line_id = None
        ref = cell(values, "line") or cell(values, "seq")
        if ref.isdigit():
            line_id = int(ref) if "line" in columns and cell(values, "line") else None
            if line_id is None and seqs is not None and 1 <= int(ref) <= len(seqs):
                line_id = seqs[int(ref) - 1]
        result = RESULTS.get(cell(values, "result").lower())
        reason = None
        if line_id is None:
            reason = "序号或明细号不在本名册的银行文件中"
        elif result is None:
            reason = "结果无法识别（应为「成功」或「失败」）"
        elif line_id in seen:
            reason = "同一笔在文件中重复出现"
        if reason is None:
            seen.add(line_id)
            outcomes[line_id] = (result, cell(values, "reason")[:200], cell(values, "account"))
        elif len(rejected) < MAX_REJECTS:
            rejected.append({"row": number, "reason": reason})
    paid = failed = 0
    with transaction():
        ids = list(outcomes)
        for start in range(0, len(ids), 1000):
            chunk = ids[start : start + 1000]
            found = {
                r.id: r
                for r in db.session.execute(
                    select(PayrollLine.id, PayrollLine.status, PayrollLine.account_enc).where(
                        PayrollLine.run_id == run.id, PayrollLine.id.in_(chunk), PayrollLine.held.is_(False)
                    )
                )
            }
            now, groups = utcnow(), defaultdict(list)
            for line_id in chunk:
                result, reason, account = outcomes[line_id]
                line = found.get(line_id)
                problem = None
                if line is None:
                    problem = "明细号不在本名册的银行文件中"
                elif account and account != pii.decrypt(line.account_enc, context="payroll_line.account"):
                    problem = "账号与名册不符"
                elif line.status not in ("pending", result):
                    problem = "该笔已有不同的回盘结果"
                if problem:
                    if len(rejected) < MAX_REJECTS:
                        rejected.append({"row": None, "line": line_id, "reason": problem})
                    continue
                groups[(result, (reason or "银行未说明原因") if result == "failed" else None)].append(line_id)
                paid, failed = paid + (result == "paid"), failed + (result == "failed")
            for (result, reason), grouped in groups.items():  # one UPDATE per outcome and reason, not per line
                db.session.execute(
                    update(PayrollLine)
                    .where(PayrollLine.id.in_(grouped))
                    .values(status=result, settled_at=now, bank_reason=reason)
                    .execution_options(synchronize_session=False)
                )
        record = PayrollReturn(
            run_id=run.id,
            filename=(filename or "return")[-200:],
            sha256=sha,
            paid_count=paid,
            failed_count=failed,
            rejected=sorted(rejected, key=lambda r: (r["row"] is None, r["row"] or 0)),
            imported_by_id=actor.id,
            imported_at=utcnow(),
        )
        db.session.add(record)
        db.session.flush()
        from backend.pension import funding

        funding.write_totals(run.id)  # failed payments leave the funding totals (they count when carried)
        audit_service.record(
            actor=actor,
            action="pension.return_imported",
            object_type="payroll_run",
            object_id=run.id,
            details={"number": run.number, "paid": paid, "failed": failed, "rejected": len(rejected), "sha256": sha},
        )
    return record, False


def returns_of(run):
    return db.session.scalars(
        select(PayrollReturn).where(PayrollReturn.run_id == run.id).order_by(PayrollReturn.id.desc())
    ).all()


def list_failures(*, actor, after=None, limit=PAGE):
    """Failed payments in scope not yet carried into a later run, oldest first (keyset). :returns: (rows, next)"""
    require_permission(actor, "pension.view")
    query = (
        select(PayrollLine, PayrollRun.number, PayrollRun.month)
        .join(PayrollRun, PayrollRun.id == PayrollLine.run_id)
        .where(PayrollLine.status == "failed", PayrollLine.carried.is_(False))
        .where(PayrollLine.station_id.in_(subtree_unit_ids(actor)))
    )
    if after:
        query = query.where(PayrollLine.id > after)
    rows = db.session.execute(query.order_by(PayrollLine.id).limit(limit + 1)).all()
    return rows[:limit], (rows[limit - 1][0].id if len(rows) > limit else None)


def open_failures(actor):
    """A select of the failed payments in scope nobody has marked fixed yet (the workbench card)."""
    return select(PayrollLine.id).where(
        PayrollLine.status == "failed",
        PayrollLine.carried.is_(False),
        PayrollLine.fixed_at.is_(None),
        PayrollLine.station_id.in_(subtree_unit_ids(actor)),
    )


def mark_fixed(*, actor, line_id):
    """A failure is fixed (account corrected, ...): the next run carries it. :raises FailureNotFound,
    FailureNotFixable:"""
    require_permission(actor, "pension.batch")
    with transaction():
        line = get_scoped(
            PayrollLine, line_id, actor=actor, unit_column=PayrollLine.station_id, not_found=FailureNotFound, lock=True
        )
        if line.status != "failed":
            raise FailureNotFound()
        has_account = db.session.scalar(select(PayAccount.id).where(PayAccount.veteran_id == line.veteran_id))
        if line.carried or line.fixed_at is not None or not has_account:
            raise FailureNotFixable()
        line.fixed_at, line.fixed_by_id = utcnow(), actor.id
        audit_service.record(
            actor=actor,
            action="pension.failure_fixed",
            object_type="payroll_line",
            object_id=line.id,
            details={"run_id": line.run_id},
        )
    return line
