"""Bank layouts (the column mapping per bank, as data) and the bank file of a confirmed run.

The file is built deterministically from the run's lines (id order; lines held out of the file — no account,
suspended — and lines of 0 are left out): the same lines and the same layout give the same bytes. The first export
stores the layout's copy on the run (export_layout) and the file's SHA-256 (export_sha256); a re-export is built
again from that copy, so editing the layout later changes nothing, and it must match the digest byte for byte — if it
does not (a line changed underneath), the download is refused and audited, never silently regenerated differently.

Formats:
- csv: a header row of the column headers, then one row per payment, CRLF line ends;
- fixed: no header; each field padded to its width in bytes of the layout's encoding (left- or right-aligned), CRLF
  line ends; a value wider than its column refuses the export (FieldTooWide, naming the payment), never cut;
- xlsx: a header row then the payments (backend/exports/writer.py: formula-like text is escaped); the workbook's
  created/modified dates and the zip entries' dates are set to the run's confirmation time.
Text formats end with a checksum line when the layout asks: `TRAILER|<count>|<total fen>|<sha256>` where the digest
is SHA-256 (hex) over the bytes of every line before it (header included, each with its CRLF). xlsx files get a
final row 合计 | count | total yuan instead.

Fields of a column: seq (1, 2, ... in file order), name (the veteran's name as copied onto the line
by the run), account (the full account number, decrypted only into this file), holder (户名), bank,
amount_yuan (1234.56), amount_fen (123456), month (YYYYMM), run_number.
"""

import hashlib
import re
import tempfile
import zipfile
from datetime import UTC

from sqlalchemy import select

from backend import pii
from backend.audit import service as audit_service
from backend.db import transaction, utcnow
from backend.errors import NotFound, RuleViolation, ValidationFailed
from backend.exports.writer import csv_row, write_workbook
from backend.extensions import db
from backend.orgs.scope import require_permission
from backend.pension.models import EXPORT_FORMATS, BankLayout, PayrollLine, PayrollRun
from backend.pension.money import fen_to_yuan
from backend.pension.payroll import RunInvalidState, get_run

FIELDS = {
    "seq": "序号",
    "name": "姓名",
    "account": "账号",
    "holder": "户名",
    "bank": "开户银行",
    "amount_yuan": "金额（元）",
    "amount_fen": "金额（分）",
    "month": "发放月份",
    "run_number": "名册编号",
}
FORMAT_LABELS = {"xlsx": "Excel（.xlsx）", "csv": "CSV 文本", "fixed": "定长文本"}
ENCODINGS = ("utf-8", "gb18030")
EXTENSIONS = {"xlsx": "xlsx", "csv": "csv", "fixed": "txt"}
BATCH = 2000
EOL = b"\r\n"


class LayoutNotFound(NotFound):
    code = "pension.layout_not_found"
    message = "未找到该银行文件格式"


class ExportMismatch(RuleViolation):
    code = "pension.export_mismatch"
    message = "重新生成的银行文件与首次导出的文件不一致，已拒绝下载并记录；请联系管理员核查名册数据"


def list_layouts(*, actor):
    """Every layout (no personal data): for those who edit them and those who export runs."""
    if not actor.can("pension.rules"):
        require_permission(actor, "pension.view")
    return db.session.scalars(select(BankLayout).order_by(BankLayout.id)).all()


def get_layout(layout_id):
    layout = db.session.get(BankLayout, layout_id) if layout_id else None
    if layout is None:
        raise LayoutNotFound()
    return layout


def parse_columns(text):
    """One column per line: `field|header|width|align` (width and align matter for fixed files).
    :raises ValidationFailed:"""
    columns = []
    for number, raw in enumerate((text or "").splitlines(), start=1):
        if not raw.strip():
            continue
        parts = [p.strip() for p in raw.split("|")] + ["", "", ""]
        field, header, width, align = parts[:4]
        if field not in FIELDS:
            raise ValidationFailed(details={"columns": f"第{number}行：字段「{field[:20]}」不在可用字段中"})
        if not width.isdigit() or not 1 <= int(width) <= 64:
            width = "0"
        if align not in ("left", "right"):
            align = "right" if field in ("seq", "amount_yuan", "amount_fen") else "left"
        columns.append({"field": field, "header": (header or FIELDS[field])[:30], "width": int(width), "align": align})
    if not 1 <= len(columns) <= 20:
        raise ValidationFailed(details={"columns": "请填写 1 至 20 列"})
    return columns


def columns_text(columns):
    return "\n".join(f"{c['field']}|{c['header']}|{c.get('width') or ''}|{c.get('align') or ''}" for c in columns)


def save_layout(*, actor, layout_id=None, name, bank, format, encoding, columns, checksum_line, active=True):
    """Create or edit a layout (runs already exported keep their own copy). :raises ValidationFailed:"""
    require_permission(actor, "pension.rules")
    errors = {}
    name, bank = (name or "").strip()[:60], (bank or "").strip()[:60]
    if not name:
        errors["name"] = "请填写格式名称"
    if not bank:
        errors["bank"] = "请填写银行"
    if format not in EXPORT_FORMATS:
        errors["format"] = "请选择文件格式"
    if encoding not in ENCODINGS:
        errors["encoding"] = "请选择字符编码"
    cols = parse_columns(columns) if isinstance(columns, str) else columns
    if format == "fixed" and any(not c["width"] for c in cols):
        errors["columns"] = "定长文本的每一列都须填写宽度（1–64 字节）"
    if errors:
        raise ValidationFailed(details=errors)
    with transaction():
        clash = db.session.scalar(
            select(BankLayout.id).where(BankLayout.name == name, BankLayout.id != (layout_id or 0))
        )
        if clash:
            raise ValidationFailed(details={"name": "已有同名的格式"})
        layout = get_layout(layout_id) if layout_id else BankLayout(created_at=utcnow())
        layout.name, layout.bank, layout.format, layout.encoding = name, bank, format, encoding
        layout.columns, layout.checksum_line, layout.active = cols, bool(checksum_line), bool(active)
        db.session.add(layout)
        db.session.flush()
        audit_service.record(
            actor=actor,
            action="pension.layout_saved",
            object_type="pay_bank_layout",
            object_id=layout.id,
            details={"name": name, "format": format, "columns": len(cols)},
        )
    return layout


def _snapshot(layout):
    return {
        "id": layout.id,
        "name": layout.name,
        "bank": layout.bank,
        "format": layout.format,
        "encoding": layout.encoding,
        "columns": [dict(c) for c in layout.columns],
        "checksum_line": bool(layout.checksum_line),
    }


def _payments(run):
    """(seq, line, account) of the file, in line id order, BATCH lines per query: only what the run stored (the name
    as it was when the run was computed), so a later edit of the veteran never changes the file."""
    query = select(
        PayrollLine.id,
        PayrollLine.net_fen,
        PayrollLine.bank,
        PayrollLine.holder_name,
        PayrollLine.account_enc,
        PayrollLine.veteran_name.label("name"),
    ).where(PayrollLine.run_id == run.id, PayrollLine.held.is_(False), PayrollLine.net_fen > 0)
    seq, last = 0, 0
    while rows := db.session.execute(query.where(PayrollLine.id > last).order_by(PayrollLine.id).limit(BATCH)).all():
        for row in rows:
            seq += 1
            yield seq, row, pii.decrypt(row.account_enc, context="payroll_line.account") or ""
        last = rows[-1].id


def _value(field, seq, row, account, run):
    return {
        "seq": seq,
        "name": row.name or "",
        "account": account,
        "holder": row.holder_name or "",
        "bank": row.bank or "",
        "amount_yuan": fen_to_yuan(row.net_fen, grouping=False),
        "amount_fen": row.net_fen,
        "month": f"{run.month:%Y%m}",
        "run_number": run.number,
    }[field]


class FieldTooWide(RuleViolation):
    code = "pension.export_too_wide"
    message = "定长文本的字段超出格式规定的宽度，已拒绝导出（不截断）：请加宽该列后重新导出"


def _fixed(value, width, align, encoding, *, seq=None, header=""):
    data = str(value).encode(encoding, errors="replace")
    if len(data) > width:  # never cut a value silently: the bank would pay a wrong account or amount
        raise FieldTooWide(
            f"第{seq}笔的「{header}」为 {len(data)} 字节，超出格式规定的 {width} 字节，"
            "已拒绝导出：请加宽该列后重新导出",
            details={"seq": seq, "column": header, "width": width, "bytes": len(data)},
        )
    pad = b" " * (width - len(data))
    return pad + data if align == "right" else data + pad


def _text_file(out, run, layout):
    digest, count, total = hashlib.sha256(), 0, 0
    columns, encoding = layout["columns"], layout["encoding"]

    def emit(data):
        digest.update(data)
        out.write(data)

    if layout["format"] == "csv":

        def row_bytes(values, seq=None):
            return csv_row(values).encode(encoding, errors="replace")

        emit(row_bytes([c["header"] for c in columns]))
    else:

        def row_bytes(values, seq=None):
            parts = [
                _fixed(v, c["width"], c["align"], encoding, seq=seq, header=c["header"])
                for v, c in zip(values, columns, strict=True)
            ]
            return b"".join(parts) + EOL

    for seq, row, account in _payments(run):
        emit(row_bytes([_value(c["field"], seq, row, account, run) for c in columns], seq))
        count, total = count + 1, total + row.net_fen
    if layout["checksum_line"]:
        out.write(f"TRAILER|{count}|{total}|{digest.hexdigest()}".encode("ascii") + EOL)


_CORE_DATES = re.compile(rb"(<dcterms:(created|modified)[^>]*>)[^<]*(</dcterms:\2>)")


def _xlsx_file(out, run, layout):
    """write_workbook into a temporary file, then copied entry by entry with fixed dates (zip and core.xml)."""
    columns = layout["columns"]
    stamp = (run.confirmed_at or run.created_at).astimezone(UTC)
    totals = {"count": 0, "fen": 0}

    def rows():
        for seq, row, account in _payments(run):
            totals["count"] += 1
            totals["fen"] += row.net_fen
            yield [_value(c["field"], seq, row, account, run) for c in columns]
        if layout["checksum_line"]:
            yield ["合计", totals["count"], fen_to_yuan(totals["fen"], grouping=False)]

    with tempfile.NamedTemporaryFile(suffix=".xlsx") as raw:
        write_workbook(
            raw.name, title="发放名册", header=[c["header"] for c in columns], rows=rows(), sheet_rows=1_000_000
        )
        iso = stamp.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
        with zipfile.ZipFile(raw.name) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
            for info in source.infolist():
                data = source.read(info)
                if info.filename == "docProps/core.xml":
                    data = _CORE_DATES.sub(lambda m: m.group(1) + iso + m.group(3), data)
                entry = zipfile.ZipInfo(info.filename, date_time=stamp.timetuple()[:6])
                entry.compress_type, entry.external_attr = zipfile.ZIP_DEFLATED, 0o600 << 16
                target.writestr(entry, data)


def build_file(run, layout):
    """The bank file of `run` in `layout` (a snapshot dict) as a temporary file at position 0, and its SHA-256."""
    out = tempfile.SpooledTemporaryFile(max_size=8 << 20)
    if layout["format"] == "xlsx":
        _xlsx_file(out, run, layout)
    else:
        _text_file(out, run, layout)
    out.seek(0)
    digest = hashlib.sha256()
    while chunk := out.read(1 << 20):
        digest.update(chunk)
    out.seek(0)
    return out, digest.hexdigest()


def file_name(run, layout):
    return f"退役金发放_{run.number}.{EXTENSIONS[layout['format']]}"


def export(*, actor, run_id, layout_id=None):
    """The bank file of a confirmed run: (file, name, sha256). The first export fixes the layout copy and the digest;
    later ones must reproduce it. Every download is audited.
    :raises PermissionDenied, RunNotFound, RunInvalidState, LayoutNotFound, ExportMismatch:"""
    if not (actor.can("pension.batch") or actor.can("pension.approve")):
        require_permission(actor, "pension.batch")
    run = get_run(actor=actor, run_id=run_id)
    if run.state != "confirmed":
        raise RunInvalidState(details={"state": run.state})
    first = run.export_layout is None
    layout = _snapshot(get_layout(layout_id)) if first else run.export_layout
    out, sha = build_file(run, layout)
    if first:
        with transaction():
            claimed = db.session.execute(
                PayrollRun.__table__.update()
                .where(PayrollRun.id == run.id, PayrollRun.export_sha256.is_(None))
                .values(
                    export_sha256=sha,
                    export_layout=layout,
                    export_layout_id=layout["id"],
                    exported_at=utcnow(),
                    version_id=PayrollRun.version_id + 1,
                )
            ).rowcount
        db.session.refresh(run)
        if not claimed:  # someone exported first: theirs is the file of record
            out.close()
            return export(actor=actor, run_id=run_id)
    elif sha != run.export_sha256:
        out.close()
        audit_service.record_now(
            actor=actor,
            action="pension.export_mismatch",
            result="failure",
            object_type="payroll_run",
            object_id=run.id,
            details={"number": run.number, "expected": run.export_sha256, "got": sha},
        )
        raise ExportMismatch()
    with transaction():
        audit_service.record(
            actor=actor,
            action="pension.run_exported",
            object_type="payroll_run",
            object_id=run.id,
            details={"number": run.number, "layout": layout["name"], "sha256": sha, "first": first},
        )
    return out, file_name(run, layout), sha
