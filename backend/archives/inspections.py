"""Periodic safety inspections (安全检查) of custody locations: the checklist (fire, damp, pests, locks, completeness),
findings and fixes; the schedule moves on from the latest inspection; overdue locations (next_due_on before today,
CST) lead the list and show on the workbench."""

from datetime import timedelta

from sqlalchemy import case, select

from backend.archives.common import audit, fail_if, get_location, parse_date, text
from backend.archives.models import CHECKLIST, ArchiveInspection, ArchiveLocation
from backend.db import transaction
from backend.extensions import db
from backend.orgs.scope import require_permission, scoped
from backend.registration.windows import today_cst

RESULTS = ("ok", "problem")


def record_inspection(*, actor, location_id, inspected_on, checklist, findings="", fixes="", fixed_on=None):
    """Record one inspection; last_inspected_on and next_due_on (= inspected_on + interval) follow the latest.

    :raises PermissionDenied, LocationNotFound, ValidationFailed
    """
    errors = {}
    day = parse_date(inspected_on, "inspected_on", errors, label="检查日期")
    checks = {}
    for key in CHECKLIST:
        value = (checklist or {}).get(key)
        if value not in RESULTS:
            errors[f"check_{key}"] = "请逐项选择检查结果"
        checks[key] = value
    findings, fixes = text(findings, 2000), text(fixes, 2000)
    problems = [k for k, v in checks.items() if v == "problem"]
    if problems and not findings:
        errors["findings"] = "有问题的检查项须填写发现的问题"
    fixed = parse_date(fixed_on, "fixed_on", errors, required=False, label="整改日期")
    if fixed and day and fixed < day:
        errors["fixed_on"] = "整改日期不能早于检查日期"
    if fixed and not fixes:
        errors["fixes"] = "填写整改日期时请说明整改措施"
    fail_if(errors)
    with transaction():
        location = get_location(actor=actor, location_id=location_id, permission="archives.manage", lock=True)
        inspection = ArchiveInspection(
            location_id=location.id,
            inspected_on=day,
            inspector_id=actor.id,
            checklist=checks,
            findings=findings or None,
            fixes=fixes or None,
            fixed_on=fixed,
        )
        db.session.add(inspection)
        db.session.flush()
        if location.last_inspected_on is None or day >= location.last_inspected_on:
            location.last_inspected_on = day
            location.next_due_on = day + timedelta(days=location.interval_days)
        audit(
            actor,
            "archive_location",
            location.id,
            location.unit_id,
            action="archives.inspected",
            inspection_id=inspection.id,
            problems=problems,
        )
    return inspection


def list_locations(*, actor, include_inactive=False):
    """Locations in scope, overdue first (then by due date): [(location, overdue)]."""
    require_permission(actor, "archives.view")
    today = today_cst()
    query = scoped(select(ArchiveLocation), actor, ArchiveLocation.unit_id)
    if not include_inactive:
        query = query.where(ArchiveLocation.active.is_(True))
    overdue_first = case((ArchiveLocation.next_due_on < today, 0), else_=1)
    rows = db.session.scalars(
        query.order_by(overdue_first, ArchiveLocation.next_due_on, ArchiveLocation.id).limit(500)
    ).all()
    return [(loc, loc.active and loc.next_due_on < today) for loc in rows]


def overdue_count(actor, cap=100):
    query = scoped(select(ArchiveLocation.id), actor, ArchiveLocation.unit_id).where(
        ArchiveLocation.active.is_(True), ArchiveLocation.next_due_on < today_cst()
    )
    return len(db.session.scalars(query.limit(cap + 1)).all())


def inspections_of(*, actor, location_id, before=None, limit=50):
    """(location, inspections newest first, next_before)."""
    location = get_location(actor=actor, location_id=location_id)
    query = select(ArchiveInspection).where(ArchiveInspection.location_id == location.id)
    if before:
        query = query.where(ArchiveInspection.id < before)
    rows = db.session.scalars(query.order_by(ArchiveInspection.id.desc()).limit(limit + 1)).all()
    return location, rows[:limit], (rows[limit - 1].id if len(rows) > limit else None)
