"""The files around an Excel import: the blank template, and the rejected rows ready to fix and re-import.

Both are written by backend/exports.py, the one spreadsheet writer. The rejected rows carry personal data, so they
are stored sealed (AES-GCM, backend/pii.py) on the job and deleted 24 hours after the job ends (quality.md S30).
"""

from datetime import date, datetime, timedelta

from sqlalchemy import update

from backend import pii
from backend.audit import service as audit_service
from backend.db import transaction, utcnow
from backend.errors import NotFound
from backend.exports import FORMULA_TRIGGERS, workbook_bytes
from backend.extensions import db
from backend.orgs.scope import require_permission
from backend.veterans.identity import make_id_number
from backend.veterans.models import ImportJob
from backend.veterans.queries import grids_in_scope, stations_in_scope

REASON_HEADER = "错误原因"
EMPTY_ROW = "空行"  # the reason given to a blank row: reported, but not in the download (nothing to fix)
KEEP_REJECTED_FOR = timedelta(hours=24)
SEAL_CONTEXT = "veteran_import_job.rejected_rows"
# A valid but fictitious number (address code 110101, born 1980-01-01, sequence 999): rows carrying it are the
# template's example and are skipped on import, so a forgotten example row never becomes a veteran.
DEMO_ID_NUMBER = make_id_number("110101", date(1980, 1, 1), 999)
# The column notes, in template order (importer.HEADERS keys).
NOTES = {
    "姓名": ("必填", "与身份证一致的姓名，不超过64个字。"),
    "身份证号": (
        "必填",
        "18位居民身份证号码，末位可为X；系统会校验出生日期和校验位。请将该列设为“文本”格式，以免末几位变成0。",
    ),
    "手机号": ("选填", "11位中国大陆手机号码，可带+86或空格、短横线。"),
    "住址": ("选填", "现居住地址，不超过200个字。"),
    "服务站": ("必填", "所属退役军人服务站的名称，须与系统中的名称完全一致，且在您的管辖范围内。"),
    "网格": ("选填", "所属网格的名称，须是上一列服务站下的网格；留空表示暂不指定网格。"),
    "网格员": ("选填", "负责联系的网格员姓名。"),
    "安置日期": ("选填", "格式为 YYYY-MM-DD，例如 2015-06-01；也可使用 Excel 日期格式。"),
    "是否党员": ("选填", "填“是”表示中共党员；填“否”或留空表示不是。"),
}


class ImportRejectsGone(NotFound):
    code = "veterans.import_rejects_gone"
    message = "没有可下载的未导入行：该任务尚未完成、没有需要修改的行，或文件已超过24小时保留期被删除"


def _headers():
    from backend.veterans.importer import HEADERS

    return list(HEADERS)


def template_bytes(*, actor):
    """The blank template: the headers, one example row (skipped on import) and a notes sheet."""
    require_permission(actor, "veterans.import")
    stations = stations_in_scope(actor)
    station = stations[0] if stations else None
    grids = grids_in_scope(actor, station_id=station.id) if station else []
    example = {
        "姓名": "张三（示例，导入时自动跳过）",
        "身份证号": DEMO_ID_NUMBER,
        "手机号": "13800000000",
        "住址": "某某街道某某小区1号楼101室",
        "服务站": station.name if station else "某某退役军人服务站",
        "网格": grids[0].name if grids else None,
        "网格员": "李四",
        "安置日期": date(2015, 6, 1),
        "是否党员": "是",
    }
    headers = _headers()
    notes = [[h, *NOTES[h]] for h in headers]
    notes += [
        [],
        ["说明", "", "第一行为表头，请勿修改；示例行（身份证号为示例号码的行）导入时会自动跳过，可删除也可保留。"],
        ["说明", "", "合格的行会全部导入；有问题的行可在导入完成后下载，按“错误原因”修改后再次导入。"],
    ]
    return workbook_bytes(
        [
            ("退役军人名册", headers, [[example[h] for h in headers]]),
            ("填写说明", ["列名", "是否必填", "填写要求"], notes),
        ]
    )


def row_values(row, columns):
    """One sheet row as the template's columns (JSON-safe), whatever the uploaded column order was."""
    from backend.veterans.importer import HEADERS

    values = []
    for key in HEADERS.values():
        index = columns.get(key)
        value = row[index] if index is not None and index < len(row) else None
        if isinstance(value, datetime):
            value = value.date().isoformat() if not value.time() else value.isoformat(sep=" ")
        elif isinstance(value, date):
            value = value.isoformat()
        elif value is not None and not isinstance(value, (str, int, float, bool)):
            value = str(value)
        values.append(value)
    return values


def seal_rejected(rows):
    """The rejected rows [(values, reason)] sealed for the job's content column, or None when there are none."""
    if not rows:
        return None
    return pii.encrypt_json([[*values, reason] for values, reason in rows], context=SEAL_CONTEXT).encode()


def unescape_cell(value):
    """Undo backend/exports.py's formula escaping, so a file we wrote re-imports with the text the clerk typed."""
    if isinstance(value, str) and value.startswith("'") and value[1:2] and value[1:2] in FORMULA_TRIGGERS:
        return value[1:]
    return value


def rejects_state(job):
    """'available', 'expired' or None (nothing to fix yet): what the job page offers, without loading the file."""
    if job.status != "done" or all(r.get("reason") == EMPTY_ROW for r in job.rejections or ()):
        return None
    return "available" if utcnow() - job.finished_at < KEEP_REJECTED_FOR else "expired"


def rejected_rows_bytes(*, actor, job_id):
    """The rejected rows of a finished job in scope: the template's columns plus 「错误原因」. Audited.

    :raises ImportNotFound: job missing or out of scope. :raises ImportRejectsGone: nothing (left) to download.
    """
    from backend.veterans.importer import get_import

    job = get_import(actor=actor, job_id=job_id)
    if job.status != "done" or not job.content:  # while running, content is the upload: never served
        raise ImportRejectsGone()
    rows = pii.decrypt_json(job.content.decode(), context=SEAL_CONTEXT)
    with transaction():
        audit_service.record(
            actor=actor,
            action="veterans.import_rejects_download",
            object_type="import_job",
            object_id=job.id,
            details={"rows": len(rows)},
        )
    return workbook_bytes([("未导入的行", [*_headers(), REASON_HEADER], rows)])


def purge_rejected_rows(now=None):
    """Delete the sealed rejected rows of jobs that ended more than 24 hours ago. :returns: jobs purged."""
    cutoff = (now or utcnow()) - KEEP_REJECTED_FOR
    with transaction():
        result = db.session.execute(
            update(ImportJob)
            .where(ImportJob.status.in_(("done", "failed")), ImportJob.finished_at < cutoff)
            .where(ImportJob.content.is_not(None))
            .values(content=None)
        )
    return result.rowcount
