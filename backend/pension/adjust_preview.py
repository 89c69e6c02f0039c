"""Preview and apply of adjustment batches, set-based (INSERT … SELECT per batch of veterans ordered by id).

Preview (the maker, pension.batch): the veterans with an active or suspended pay profile whose station lies in the
batch's scope (the root unit's subtree, or the chosen sub-units' subtrees; optionally some categories) get one line
each: the component's amount in force in the effective month (amounts.in_force) and the new amount by the rule. The
percent rule is computed in SQL in exact integer arithmetic: with p = P / 10^4 (at most 4 decimals) and the rounding
step s fen (PENSION_ROUNDING), new = floor((old × (10^6 + P) + s × 10^6 / 2) / (s × 10^6)) × s — the same half-up
result as money.apply_percent (tests/pension/test_adjust_rules.py checks both agree). A re-preview replaces the lines;
whoever previews becomes the maker and joins previewer_ids.

Apply (the checker, pension.approve, never the creator nor anyone who previewed): a conditional UPDATE previewed ->
applied that also names the previewed_at the checker saw, so of two checkers at once one wins and the other is told it
is already applied, and a re-preview in between is noticed. Refused (pension.preview_stale) when any pay_amount row of
the batch's component was written for one of its veterans after the preview (a hand change, another batch): the maker
previews again. Applying appends exactly the previewed lines as pay_amount rows (effective month, batch id); nothing is
edited.
"""

from decimal import Decimal

from flask import current_app
from sqlalchemy import BigInteger, Date, String, and_, case, delete, func, insert, literal, or_, select, update
from sqlalchemy.orm import aliased

from backend.audit import service as audit_service
from backend.db import UTCDateTime, transaction, utcnow
from backend.extensions import db
from backend.orgs.models import OrgUnit
from backend.orgs.scope import require_permission
from backend.pension.adjustments import (
    BatchAlreadyApplied,
    BatchState,
    PreviewStale,
    SamePerson,
    get_batch,
    unit_path,
)
from backend.pension.amounts import in_force
from backend.pension.models import AdjustmentBatch, AdjustmentLine, PayAmount, PayProfile
from backend.pension.money import UNITS_FEN

LINE_COLUMNS = ["batch_id", "veteran_id", "old_fen", "new_fen", "funding"]
SCALE = 1_000_000  # (100 + p) / 100 with p in 1/10^4 percent: (10^6 + P) / 10^6


def _batch_size():
    return int(current_app.config.get("PENSION_RUN_BATCH", 2000))


def _step():
    return UNITS_FEN[current_app.config.get("PENSION_ROUNDING", "fen")]


def percent_expr(old, percent):
    """The SQL expression of old × (1 + percent/100) rounded half up to the configured step (integers only)."""
    scaled = int(Decimal(str(percent)) * 10_000)  # exact: parse_percent allows at most 4 decimals
    denominator = _step() * SCALE
    return (old * (SCALE + scaled) + denominator // 2) // denominator * _step()


def _floor_zero(total):
    return case((total < 0, 0), else_=total)


def new_amount_expr(batch, old, category):
    params = batch.params or {}
    if batch.rule == "percent":
        return percent_expr(old, params["percent"])
    if batch.rule == "fixed":
        return _floor_zero(old + int(params["fen"]))
    rows = {str(k): int(v) for k, v in (params.get("rows") or {}).items()}
    if params.get("mode") == "set":
        return case(rows, value=category, else_=old)
    return _floor_zero(old + case(rows, value=category, else_=0))


def _scope_units(batch):
    roots = list(batch.unit_ids or []) or [batch.unit_id]
    paths = db.session.scalars(select(OrgUnit.path).where(OrgUnit.id.in_(roots))).all()
    return select(OrgUnit.id).where(or_(*[OrgUnit.path.startswith(p, autoescape=True) for p in paths]))


def _veterans_in_scope(batch):
    query = select(PayProfile.veteran_id).where(
        PayProfile.station_id.in_(_scope_units(batch)), PayProfile.state.in_(("active", "suspended"))
    )
    if batch.categories:
        query = query.where(PayProfile.category.in_(list(batch.categories)))
    if batch.rule == "table":
        query = query.where(PayProfile.category.in_([str(k) for k in (batch.params.get("rows") or {})]))
    return query, PayProfile.veteran_id


def _id_batches(query, column, size):
    last = None
    while True:
        page = query if last is None else query.where(column > last)
        ids = db.session.scalars(page.order_by(column).limit(size)).all()
        if not ids:
            return
        yield ids
        if len(ids) < size:
            return
        last = ids[-1]


def _fill(batch):
    creates = batch.rule != "percent" and batch.component == "adjustment"
    default_funding = literal((batch.params or {}).get("funding") or "central", String)
    query, column = _veterans_in_scope(batch)
    for ids in _id_batches(query, column, _batch_size()):
        now_in_force = in_force(batch.effective_month, veteran_ids=ids).subquery()
        on = and_(now_in_force.c.veteran_id == PayProfile.veteran_id, now_in_force.c.component == batch.component)
        old = func.coalesce(now_in_force.c.amount_fen, 0) if creates else now_in_force.c.amount_fen
        new = new_amount_expr(batch, old, PayProfile.category)
        source = select(
            literal(batch.id, BigInteger),
            PayProfile.veteran_id,
            old,
            new,
            func.coalesce(now_in_force.c.funding, default_funding),
        ).select_from(PayProfile)
        source = source.outerjoin(now_in_force, on) if creates else source.join(now_in_force, on)
        source = source.where(PayProfile.veteran_id.in_(ids), new != old)
        db.session.execute(insert(AdjustmentLine).from_select(LINE_COLUMNS, source))


def _fill_compensation(batch):
    """Lines restoring each line of the compensated batch to its old amount (where it is not that already)."""
    original = aliased(AdjustmentLine)
    query = select(original.veteran_id).where(original.batch_id == batch.compensates_id)
    for ids in _id_batches(query, original.veteran_id, _batch_size()):
        now_in_force = in_force(batch.effective_month, veteran_ids=ids).subquery()
        on = and_(now_in_force.c.veteran_id == original.veteran_id, now_in_force.c.component == batch.component)
        old = func.coalesce(now_in_force.c.amount_fen, 0)
        source = (
            select(literal(batch.id, BigInteger), original.veteran_id, old, original.old_fen, original.funding)
            .select_from(original)
            .outerjoin(now_in_force, on)
            .where(original.batch_id == batch.compensates_id, original.veteran_id.in_(ids), original.old_fen != old)
        )
        db.session.execute(insert(AdjustmentLine).from_select(LINE_COLUMNS, source))


def _set(batch_id, *conditions, **values):
    result = db.session.execute(
        update(AdjustmentBatch)
        .where(AdjustmentBatch.id == batch_id, *conditions)
        .values(version_id=AdjustmentBatch.version_id + 1, **values)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def preview(*, actor, batch_id):
    """Compute (or recompute) the batch's lines; the actor becomes its maker. :raises BatchState: applied or
    cancelled."""
    require_permission(actor, "pension.batch")
    with transaction():
        batch = get_batch(actor=actor, batch_id=batch_id, lock=True)  # serializes previews (the previewers list)
        again = batch.state == "previewed"
        states = AdjustmentBatch.state.in_(("draft", "previewed"))
        previewers = sorted({*(batch.previewer_ids or []), actor.id})
        if not _set(
            batch.id, states, state="previewed", previewed_at=utcnow(), maker_id=actor.id, previewer_ids=previewers
        ):
            db.session.refresh(batch)
            raise BatchState(details={"state": batch.state})
        db.session.execute(delete(AdjustmentLine).where(AdjustmentLine.batch_id == batch.id))
        if batch.compensates_id:
            _fill_compensation(batch)
        else:
            _fill(batch)
        count, total = db.session.execute(
            select(func.count(), func.coalesce(func.sum(AdjustmentLine.new_fen - AdjustmentLine.old_fen), 0)).where(
                AdjustmentLine.batch_id == batch.id
            )
        ).one()
        _set(batch.id, line_count=count, total_delta_fen=int(total))
        audit_service.record(
            actor=actor,
            action="pension.batch_previewed",
            object_type="pay_adjustment_batch",
            object_id=batch.id,
            org_path=unit_path(batch.unit_id),
            details={"line_count": count, "total_delta_fen": int(total), "again": again},
        )
    db.session.expire(batch)
    return batch


def _check_can_apply(batch, actor):
    if batch.state == "applied":
        raise BatchAlreadyApplied()
    if batch.state != "previewed":
        raise BatchState(details={"state": batch.state})
    if actor.id in (batch.maker_id, batch.created_by_id) or actor.id in (batch.previewer_ids or []):
        raise SamePerson()


def changed_since_preview(batch):
    """How many of the batch's veterans had a pay_amount row of its component written after the preview."""
    veterans = select(AdjustmentLine.veteran_id).where(AdjustmentLine.batch_id == batch.id)
    return db.session.scalar(
        select(func.count(func.distinct(PayAmount.veteran_id))).where(
            PayAmount.component == batch.component,
            PayAmount.created_at > batch.previewed_at,
            PayAmount.batch_id.is_distinct_from(batch.id),  # a concurrent checker's own rows: "already applied"
            PayAmount.veteran_id.in_(veterans),
        )
    )


def apply(*, actor, batch_id):
    """Apply exactly the previewed lines (pay_amount rows appended). :raises SamePerson, BatchAlreadyApplied,
    BatchState, PreviewStale:"""
    require_permission(actor, "pension.approve")
    with transaction():
        batch = get_batch(actor=actor, batch_id=batch_id)
        _check_can_apply(batch, actor)
        seen = batch.previewed_at
        changed = changed_since_preview(batch)
        if changed:
            raise PreviewStale(details={"changed": changed})
        now = utcnow()
        won = _set(
            batch.id,
            AdjustmentBatch.state == "previewed",
            AdjustmentBatch.previewed_at == seen,
            AdjustmentBatch.maker_id != actor.id,
            AdjustmentBatch.created_by_id.is_distinct_from(actor.id),
            state="applied",
            checker_id=actor.id,
            applied_at=now,
        )
        if not won:  # another checker, or a re-preview, got there first (PostgreSQL waited for it to commit)
            db.session.refresh(batch)
            _check_can_apply(batch, actor)
            raise PreviewStale()
        note = f"调整批次 #{batch.id}（{batch.doc_ref}）"[:200]
        source = select(
            AdjustmentLine.veteran_id,
            literal(batch.component, String),
            AdjustmentLine.new_fen,
            AdjustmentLine.funding,
            literal(batch.effective_month, Date),
            literal(batch.id, BigInteger),
            literal(note, String),
            literal(actor.id, BigInteger),
            literal(now, UTCDateTime),
        ).where(AdjustmentLine.batch_id == batch.id)
        columns = [
            "veteran_id",
            "component",
            "amount_fen",
            "funding",
            "effective_month",
            "batch_id",
            "note",
            "created_by_id",
            "created_at",
        ]
        written = db.session.execute(insert(PayAmount).from_select(columns, source)).rowcount
        audit_service.record(
            actor=actor,
            action="pension.batch_applied",
            object_type="pay_adjustment_batch",
            object_id=batch.id,
            org_path=unit_path(batch.unit_id),
            details={
                "line_count": batch.line_count,
                "written": written,
                "total_delta_fen": batch.total_delta_fen,
                "compensates": batch.compensates_id,
                "maker_id": batch.maker_id,
            },
        )
    db.session.expire(batch)
    return batch
