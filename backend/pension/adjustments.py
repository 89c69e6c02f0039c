"""Adjustment batches (调整批次, issue 18): a rule over a scope from an effective month, previewed by a maker, applied
by a checker who is another person, undone by a compensating batch (冲正) — never by editing history.

Rules (params stored on the batch):
- percent {"percent": "3.5"}: new = old × (1 + p/100), rounded half up once to PENSION_ROUNDING (money.apply_percent).
  Veterans without the component are not touched.
- fixed {"fen": 5000}: new = old + fen (a negative amount is a cut; the result never goes below 0).
- table {"mode": "delta"|"set", "rows": {category: fen}}: per PayProfile.category, the amount added ("delta", floor
  at 0) or the new amount ("set"); veterans whose category the table does not list are not touched.
For fixed and table rules on the "adjustment" component a veteran without one gets it (old amount 0); the base and
the allowance are only changed where they exist. Lines whose new amount equals the old one are left out.

The maker is whoever previewed last; the checker must be another person than the one who created the batch and than
everyone who ever previewed it (created_by_id, previewer_ids). Preview and apply live in
backend/pension/adjust_preview.py.
"""

from datetime import date

from sqlalchemy import func, select, update

from backend.audit import service as audit_service
from backend.db import transaction
from backend.errors import NotFound, RuleViolation, ValidationFailed
from backend.extensions import db
from backend.orgs.models import OrgUnit
from backend.orgs.scope import get_scoped, get_unit_in_scope, require_permission, scoped
from backend.pension import money
from backend.pension.amounts import add_months, first_of_month
from backend.pension.models import BATCH_RULES, COMPONENTS, FUNDING, AdjustmentBatch, AdjustmentLine, PayProfile
from backend.registration.windows import today_cst
from backend.veterans.models import Veteran

RULE_LABELS = {"percent": "按比例调整", "fixed": "按固定金额调整", "table": "按类别标准表调整"}
COMPONENT_LABELS = {"base": "基本退役金", "allowance": "补贴", "adjustment": "调整增加额"}
STATE_LABELS = {"draft": "草稿", "previewed": "待复核执行", "applied": "已执行", "cancelled": "已作废"}
FUNDING_LABELS = {"central": "中央资金", "local": "地方资金"}
TABLE_MODES = {"delta": "按类别增加（减少）金额", "set": "按类别核定新金额"}
PAGE = 50
MONTHS_AHEAD = 12  # an effective month further ahead than this is a typo


class BatchNotFound(NotFound):
    code = "pension.batch_not_found"
    message = "未找到该调整批次"


class BatchState(RuleViolation):
    code = "pension.batch_state"
    message = "该调整批次当前状态不允许此操作，请刷新后查看"


class BatchAlreadyApplied(RuleViolation):
    code = "pension.batch_applied"
    message = "该调整批次已由他人复核执行，不能重复执行"


class SamePerson(RuleViolation):
    code = "pension.same_person"
    message = "经办与复核须由两人分别办理：您创建或预览过该批次，不能由您本人复核执行"


class PreviewStale(RuleViolation):
    code = "pension.preview_stale"
    message = "预览之后有关人员的退役金金额已有变动（或批次已重新预览），请重新预览后再复核执行"


class AlreadyCompensated(RuleViolation):
    code = "pension.batch_compensated"
    message = "该调整批次已有冲正批次（未作废），不能重复冲正"


def _invalid(field, text):
    return ValidationFailed(details={field: text})


def parse_month(text, *, today=None):
    """'2026-07' (or '2026-07-01') -> date(2026, 7, 1), not before PENSION_BACK_PAY_MONTHS ago nor over a year
    ahead."""
    from flask import current_app

    value = str(text or "").strip()[:10]
    try:
        parts = [int(p) for p in value.split("-")[:2]]
        month = date(parts[0], parts[1], 1)
    except (ValueError, IndexError):
        raise _invalid("effective_month", "请选择生效月份") from None
    current = first_of_month(today or today_cst())
    earliest = add_months(current, -int(current_app.config.get("PENSION_BACK_PAY_MONTHS", 36)))
    if month < earliest:
        raise _invalid("effective_month", f"生效月份不能早于 {earliest:%Y年%m月}（补发最多追溯的月数）")
    if month > add_months(current, MONTHS_AHEAD):
        raise _invalid("effective_month", "生效月份不能晚于一年之后")
    return month


def parse_table(text, mode):
    """Lines 'category amount' (or 'category=amount', 'category,amount'; amount in yuan) -> {category: fen}."""
    rows = {}
    for number, raw in enumerate(str(text or "").splitlines(), start=1):
        line = raw.strip().replace("＝", "=").replace("，", ",").replace("\t", " ")
        if not line:
            continue
        for sep in ("=", ",", " "):
            if sep in line:
                category, amount = (p.strip() for p in line.rsplit(sep, 1))
                break
        else:
            raise _invalid("table", f"第 {number} 行应为“类别 金额”")
        if not category or len(category) > 20:
            raise _invalid("table", f"第 {number} 行的类别为空或超过20个字")
        try:
            rows[category] = money.yuan_to_fen(amount, allow_negative=mode == "delta")
        except money.BadAmount:
            raise _invalid("table", f"第 {number} 行的金额格式不正确") from None
    if not rows:
        raise _invalid("table", "请填写标准表（每行一个类别及金额）")
    if len(rows) > 200:
        raise _invalid("table", "标准表最多200行")
    return rows


def parse_rule(rule, *, percent=None, amount=None, table=None, table_mode=None):
    """The batch's params for `rule` from the form's strings. :raises ValidationFailed:"""
    if rule == "percent":
        try:
            value = money.parse_percent(percent)
        except money.BadAmount as error:
            raise _invalid("percent", error.message) from None
        if value == 0:
            raise _invalid("percent", "调整比例不能为0")
        return {"percent": str(value)}
    if rule == "fixed":
        try:
            fen = money.yuan_to_fen(amount, allow_negative=True)
        except money.BadAmount:
            raise _invalid("amount", "调整金额格式不正确：最多两位小数，减少请填负数") from None
        if fen == 0:
            raise _invalid("amount", "调整金额不能为0")
        return {"fen": fen}
    if rule == "table":
        mode = table_mode if table_mode in TABLE_MODES else "delta"
        return {"mode": mode, "rows": parse_table(table, mode)}
    raise _invalid("rule", "请选择调整方式")


def _sub_units(unit, unit_ids):
    """The chosen sub-units (each inside `unit`'s subtree), as a sorted id list; [] = the whole subtree."""
    chosen = sorted({int(u) for u in unit_ids or [] if str(u).isdigit()} - {unit.id})
    if not chosen:
        return []
    found = db.session.scalars(
        select(OrgUnit.id).where(OrgUnit.id.in_(chosen), OrgUnit.path.startswith(unit.path, autoescape=True))
    ).all()
    if len(found) != len(chosen):
        raise _invalid("unit_ids", "所选下级单位不在本批次的范围内")
    return chosen


def _categories(values):
    cleaned = sorted({str(v).strip()[:20] for v in values or [] if str(v).strip()})
    if len(cleaned) > 50:
        raise _invalid("categories", "类别最多50个")
    return cleaned


def create_batch(
    *, actor, title, doc_ref, rule, params, component, effective_month, unit_id, unit_ids=(), categories=(), funding
):
    """A new batch in state draft (preview it next). :raises PermissionDenied, OrgUnitNotFound, ValidationFailed:"""
    require_permission(actor, "pension.batch")
    title, doc_ref = (title or "").strip()[:100], (doc_ref or "").strip()[:100]
    problems = {}
    if not title:
        problems["title"] = "请填写批次名称"
    if not doc_ref:
        problems["doc_ref"] = "请填写政策文件文号"
    if rule not in BATCH_RULES:
        problems["rule"] = "请选择调整方式"
    if component not in COMPONENTS:
        problems["component"] = "请选择调整项目"
    if funding not in FUNDING:
        problems["funding"] = "请选择新增项目的资金来源"
    if problems:
        raise ValidationFailed(details=problems)
    with transaction():
        unit = get_unit_in_scope(actor, unit_id or actor.org_unit_id)
        batch = AdjustmentBatch(
            unit_id=unit.id,
            title=title,
            doc_ref=doc_ref,
            rule=rule,
            params={**params, "funding": funding},
            component=component,
            effective_month=effective_month,
            unit_ids=_sub_units(unit, unit_ids),
            categories=_categories(categories),
            state="draft",
            maker_id=actor.id,
            created_by_id=actor.id,
            previewer_ids=[],
        )
        db.session.add(batch)
        db.session.flush()
        audit_service.record(
            actor=actor,
            action="pension.batch_created",
            object_type="pay_adjustment_batch",
            object_id=batch.id,
            org_path=unit.path,
            details={"rule": rule, "component": component, "month": effective_month.isoformat(), "doc_ref": doc_ref},
        )
    return batch


def compensate(*, actor, batch_id, doc_ref=None):
    """A compensating batch (冲正) of the applied batch `batch_id`: same scope, component and month; its preview
    restores each line's old amount. The original stays applied. :raises BatchState, AlreadyCompensated:"""
    require_permission(actor, "pension.batch")
    with transaction():
        original = get_batch(actor=actor, batch_id=batch_id, lock=True)
        if original.state != "applied":
            raise BatchState(details={"state": original.state})
        open_one = select(AdjustmentBatch.id).where(
            AdjustmentBatch.compensates_id == original.id, AdjustmentBatch.state != "cancelled"
        )
        if db.session.scalar(open_one) is not None:
            raise AlreadyCompensated()
        batch = AdjustmentBatch(
            unit_id=original.unit_id,
            title=f"冲正：{original.title}"[:100],
            doc_ref=((doc_ref or "").strip() or original.doc_ref)[:100],
            rule=original.rule,
            params=dict(original.params),
            component=original.component,
            effective_month=original.effective_month,
            unit_ids=list(original.unit_ids or []),
            categories=list(original.categories or []),
            state="draft",
            compensates_id=original.id,
            maker_id=actor.id,
            created_by_id=actor.id,
            previewer_ids=[],
        )
        db.session.add(batch)
        db.session.flush()
        audit_service.record(
            actor=actor,
            action="pension.batch_compensation_created",
            object_type="pay_adjustment_batch",
            object_id=batch.id,
            org_path=unit_path(original.unit_id),
            details={"compensates": original.id},
        )
    return batch


def cancel(*, actor, batch_id):
    """Cancel a draft or previewed batch (its lines stay for the record; nothing was applied)."""
    require_permission(actor, "pension.batch")
    with transaction():
        batch = get_batch(actor=actor, batch_id=batch_id)
        done = db.session.execute(
            update(AdjustmentBatch)
            .where(AdjustmentBatch.id == batch.id, AdjustmentBatch.state.in_(("draft", "previewed")))
            .values(state="cancelled", version_id=AdjustmentBatch.version_id + 1)
            .execution_options(synchronize_session=False)
        )
        if done.rowcount != 1:
            db.session.refresh(batch)
            raise BatchState(details={"state": batch.state})
        audit_service.record(
            actor=actor,
            action="pension.batch_cancelled",
            object_type="pay_adjustment_batch",
            object_id=batch.id,
            org_path=unit_path(batch.unit_id),
            details={"line_count": batch.line_count},
        )
    db.session.expire(batch)
    return batch


def unit_path(unit_id):
    return db.session.scalar(select(OrgUnit.path).where(OrgUnit.id == unit_id))


def get_batch(*, actor, batch_id, lock=False):
    """A batch whose root unit lies in the actor's subtree, else BatchNotFound."""
    return get_scoped(
        AdjustmentBatch,
        batch_id,
        actor=actor,
        unit_column=AdjustmentBatch.unit_id,
        not_found=BatchNotFound,
        lock=lock,
    )


def list_batches(*, actor, state=None, before=None, limit=PAGE):
    """Batches in scope, newest first, keyset by id. Returns (rows, next_before)."""
    require_permission(actor, "pension.view")
    query = scoped(select(AdjustmentBatch), actor, AdjustmentBatch.unit_id)
    if state:
        query = query.where(AdjustmentBatch.state == state)
    if before:
        query = query.where(AdjustmentBatch.id < before)
    rows = db.session.scalars(query.order_by(AdjustmentBatch.id.desc()).limit(limit + 1)).all()
    return rows[:limit], (rows[limit - 1].id if len(rows) > limit else None)


def waiting_for_checker(actor):
    """A select of the previewed batches in scope that `actor` may apply (not their own)."""
    query = select(AdjustmentBatch.id).where(
        AdjustmentBatch.state == "previewed",
        AdjustmentBatch.maker_id != actor.id,
        AdjustmentBatch.created_by_id.is_distinct_from(actor.id),
    )
    return scoped(query, actor, AdjustmentBatch.unit_id)


def lines_page(batch, *, after=None, limit=PAGE):
    """A page of the batch's lines with the veteran's name and station, keyset by line id. (rows, next_after)."""
    station = OrgUnit.__table__.alias("station")
    query = (
        select(
            AdjustmentLine.id,
            AdjustmentLine.veteran_id,
            Veteran.name,
            station.c.name.label("station_name"),
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
    if after:
        query = query.where(AdjustmentLine.id > after)
    rows = db.session.execute(query.order_by(AdjustmentLine.id).limit(limit + 1)).all()
    return rows[:limit], (rows[limit - 1].id if len(rows) > limit else None)


def unit_names(batches):
    ids = {b.unit_id for b in batches} | {u for b in batches for u in (b.unit_ids or [])}
    if not ids:
        return {}
    return dict(db.session.execute(select(OrgUnit.id, OrgUnit.name).where(OrgUnit.id.in_(ids))).all())


def compensations_of(batch_id):
    return db.session.scalars(
        select(AdjustmentBatch).where(AdjustmentBatch.compensates_id == batch_id).order_by(AdjustmentBatch.id)
    ).all()


def units_for_form(actor):
    """Units of the actor's subtree above the grids (county, district, station) for the scope pickers, capped."""
    query = scoped(select(OrgUnit).where(OrgUnit.level != "grid"), actor, OrgUnit.id)
    return db.session.scalars(query.order_by(OrgUnit.path).limit(300)).all()


def categories_in_scope(actor):
    query = scoped(select(PayProfile.category).distinct(), actor, PayProfile.station_id)
    return sorted(c for c in db.session.scalars(query.where(PayProfile.category.is_not(None)).limit(100)).all() if c)


def count_lines(batch_id):
    return db.session.scalar(select(func.count()).where(AdjustmentLine.batch_id == batch_id))
