"""The department's weights and targets (assessment.configure): stored for the actor's own unit, applying to the
units below it (never to the unit itself: scoring.scoring_chain) unless a unit nearer has rows of its own."""

from sqlalchemy import select

from backend.assessment import scoring
from backend.assessment.indicators import INDICATORS
from backend.assessment.models import IndicatorSetting
from backend.audit import service as audit_service
from backend.db import transaction
from backend.errors import PermissionDenied, ValidationFailed
from backend.extensions import db
from backend.orgs.models import OrgUnit
from backend.orgs.scope import require_permission

TARGET_MAX = 10_000_000  # ×1000


def current(actor):
    """(unit, {code: Setting}) as the actor's unit sets them for its subtree (its own rows, else inherited)."""
    unit = db.session.get(OrgUnit, actor.org_unit_id)
    return unit, scoring.settings_for(unit, own=True)


def parse(form):
    """{code: (weight, target ×1000, enabled)} from the form's weight_<code> / target_<code> / enabled_<code>.

    :raises ValidationFailed: with one Chinese message per wrong field"""
    errors, values = {}, {}
    for indicator in INDICATORS:
        code = indicator.code
        try:
            weight = int(str(form.get(f"weight_{code}", "")).strip() or 0)
        except ValueError:
            weight = -1
        if not 0 <= weight <= 100:
            errors[f"weight_{code}"] = "权重应为 0 到 100 之间的整数"
        try:
            target = round(
                float(str(form.get(f"target_{code}", "")).strip()) * (10 if indicator.measure == "rate" else 1000)
            )
        except ValueError:
            target = -1
        if not 0 <= target <= TARGET_MAX:
            errors[f"target_{code}"] = "目标值不正确"
        values[code] = (weight, target, bool(form.get(f"enabled_{code}")))
    if errors:
        raise ValidationFailed(details=errors)
    return values


def save(*, actor, form):
    """Store the actor's unit's weights and targets (one row per indicator, upserted) and audit the change.

    :returns: the total weight of the enabled indicators (the page warns when it is not 100)
    :raises ValidationFailed, PermissionDenied:"""
    require_permission(actor, "assessment.configure")
    values = parse(form)
    with transaction():
        rows = {
            row.code: row
            for row in db.session.scalars(
                select(IndicatorSetting).where(IndicatorSetting.unit_id == actor.org_unit_id).with_for_update()
            )
        }
        for code, (weight, target, enabled) in values.items():
            row = rows.get(code) or IndicatorSetting(unit_id=actor.org_unit_id, code=code)
            row.weight, row.target_permille, row.enabled, row.updated_by_id = weight, target, enabled, actor.id
            db.session.add(row)
        total = sum(w for w, _, on in values.values() if on)
        audit_service.record(
            actor=actor,
            action="assessment.settings_saved",
            object_type="org_unit",
            object_id=actor.org_unit_id,
            details={"weights": {code: w for code, (w, _, _) in values.items()}, "total": total},
        )
    return total


def target_shown(indicator, target):
    """The target ×1000 as typed in the form: a percentage for rates, else the value itself."""
    value = target / 10 if indicator.measure == "rate" else target / 1000
    return f"{value:g}"


def request_recompute(*, actor, year):
    """Audit and start recomputing `year` (every unit nationwide) in the background: a root-level department's
    (assessment.configure at the province) only, one run per year at a time. :returns: the thread or None
    :raises ValidationFailed, PermissionDenied, RecomputeRunning:"""
    from backend.assessment import service, tasks

    require_permission(actor, "assessment.configure")
    if db.session.scalar(select(OrgUnit.parent_id).where(OrgUnit.id == actor.org_unit_id)) is not None:
        raise PermissionDenied("只有省级主管部门可以重新计算考核指标")
    year = service.parse_year(year)
    if not tasks.acquire(year):  # before the audit: a refused request starts nothing
        raise tasks.RecomputeRunning(details={"year": tasks.RecomputeRunning.message})
    try:
        with transaction():
            audit_service.record(
                actor=actor,
                action="assessment.recompute",
                object_type="assessment",
                object_id=year,
                details={"year": year},
            )
    except BaseException:
        tasks.release(year)
        raise
    return tasks.start_recompute(year, locked=True)
