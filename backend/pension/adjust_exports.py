"""The 调整批次明细 export kind: every line of one adjustment batch (name, station, category, old, new, change),
streamed from the database in id batches into the shared writer (text cells formula-escaped there)."""

from decimal import Decimal

from sqlalchemy import select

from backend.exports.registry import Source, export_kind, keyset_batches
from backend.orgs.models import OrgUnit
from backend.orgs.scope import require_permission
from backend.pension.adjustments import COMPONENT_LABELS, FUNDING_LABELS, get_batch
from backend.pension.models import AdjustmentLine, PayProfile
from backend.veterans.models import Veteran

HEADER = ["姓名", "服务站", "类别", "调整项目", "原金额（元）", "新金额（元）", "变动（元）", "资金来源"]
HEADER += ["生效月份", "文号"]


def yuan(fen):
    return Decimal(int(fen)) / 100


def _rows(batch):
    station = OrgUnit.__table__.alias("station")
    query = (
        select(
            AdjustmentLine.id,
            Veteran.name,
            station.c.name,
            PayProfile.category,
            AdjustmentLine.old_fen,
            AdjustmentLine.new_fen,
            AdjustmentLine.funding,
        )
        .join(Veteran, Veteran.id == AdjustmentLine.veteran_id)
        .outerjoin(PayProfile, PayProfile.veteran_id == AdjustmentLine.veteran_id)
        .outerjoin(station, station.c.id == Veteran.station_id)
        .where(AdjustmentLine.batch_id == batch.id)
    )
    component, month = COMPONENT_LABELS[batch.component], batch.effective_month.strftime("%Y-%m")
    doc_ref = batch.doc_ref
    for _, name, station_name, category, old, new, funding in keyset_batches(query, AdjustmentLine.id):
        yield [
            name,
            station_name or "",
            category or "",
            component,
            yuan(old),
            yuan(new),
            yuan(new - old),
            FUNDING_LABELS.get(funding, funding),
            month,
            doc_ref,
        ]


@export_kind("pension_adjustment", permission="pension.view", title="退役金调整明细")
def adjustment_export(actor, params):
    """The lines of batch `params["batch"]` (in the actor's scope). :raises BatchNotFound:"""
    require_permission(actor, "pension.view")
    batch = get_batch(actor=actor, batch_id=params.get("batch"))
    return Source(
        header=HEADER,
        rows=_rows(batch),
        params={"batch": batch.id},
        unit_id=batch.unit_id,
        count=lambda: batch.line_count,
    )
