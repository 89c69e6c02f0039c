"""The auditor's conduct views (作风纪律监督, Art. 24; issue 20): one staff member's actions over a period, reveals and
exports per staff member with unusual volumes highlighted, refusals, and the conduct cases (feedback cases from
complaints about a staff member). Read-only, audit.view, bounded by a period; lists page by keyset (id), figures are
one GROUP BY over the audit log's indexed columns (action, occurred_at, actor_type/actor_id). A staff member's rows
page on ix_audit_log_actor_id (actor_type, actor_id, id), the refusals on ix_audit_log_result_id (result, id).
"""

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from statistics import median

from sqlalchemy import func, or_, select

from backend.audit.models import AuditLog
from backend.audit.service import ACTION_LABELS, CST
from backend.extensions import db
from backend.feedback.rules import setting
from backend.orgs.scope import require_permission

# Reveals: a full ID number, phone or amount opened on purpose; exports: files leaving the system.
REVEAL_ACTIONS = tuple(sorted(a for a in ACTION_LABELS if "reveal" in a))
EXPORT_ACTIONS = tuple(
    sorted(a for a in ACTION_LABELS if a.endswith(".export") or a in ("export.requested", "export.downloaded"))
)
MAX_DAYS = 366
MAX_GROUPS = 2000


class StaffNotFound(Exception):
    pass


def period(first, last, today):
    """A bounded period (CST dates): the last 30 days by default, at most MAX_DAYS."""
    last = last or today
    first = first or last - timedelta(days=29)
    if first > last or (last - first).days > MAX_DAYS:
        first = last - timedelta(days=29)
    return first, last


def _bounds(first, last):
    return datetime.combine(first, time.min, CST), datetime.combine(last + timedelta(days=1), time.min, CST)


def _scope(actor):
    scope = AuditLog.org_path.startswith(actor.scope_path, autoescape=True)
    if actor.org_unit.parent_id is None:
        scope = or_(scope, AuditLog.org_path.is_(None))
    return scope


def _page(query, before, limit):
    if before:
        query = query.where(AuditLog.id < before)
    rows = db.session.scalars(query.order_by(AuditLog.id.desc()).limit(limit + 1)).all()
    return rows[:limit], (rows[limit - 1].id if len(rows) > limit else None)


def staff_actions(*, actor, staff_id, first, last, before=None, limit=50):
    """(staff, rows, next_before): the staff member's audit rows in the period, newest first.

    :raises PermissionDenied, StaffNotFound: (a staff member outside the auditor's subtree is not found)"""
    from backend.orgs.models import OrgUnit
    from backend.staff.models import Staff

    require_permission(actor, "audit.view")
    staff = db.session.get(Staff, staff_id)
    unit = db.session.get(OrgUnit, staff.org_unit_id) if staff is not None else None
    if unit is None or not unit.path.startswith(actor.scope_path):
        raise StaffNotFound()
    start, end = _bounds(first, last)
    query = select(AuditLog).where(
        AuditLog.actor_type == "staff",
        AuditLog.actor_id == staff.id,
        AuditLog.occurred_at >= start,
        AuditLog.occurred_at < end,
        _scope(actor),
    )
    rows, next_before = _page(query, before, limit)
    return staff, rows, next_before


@dataclass
class Volume:
    staff_id: int
    name: str
    unit: str
    reveals: int
    exports: int
    unusual: bool = False


def volumes(*, actor, first, last):
    """Reveals and exports per staff member in the period (one GROUP BY on actor and action), highest first, with
    `unusual` set above AUDIT_VOLUME_FACTOR x the peers' median or above AUDIT_VOLUME_THRESHOLD.
    Returns (volumes, reveal median, export median)."""
    from backend.orgs.models import OrgUnit
    from backend.staff.models import Staff

    require_permission(actor, "audit.view")
    start, end = _bounds(first, last)
    is_reveal = AuditLog.action.in_(REVEAL_ACTIONS)
    total = func.count()
    query = (
        select(AuditLog.actor_id, func.count().filter(is_reveal), func.count().filter(~is_reveal))
        .where(
            AuditLog.action.in_(REVEAL_ACTIONS + EXPORT_ACTIONS),
            AuditLog.occurred_at >= start,
            AuditLog.occurred_at < end,
            AuditLog.actor_type == "staff",
            AuditLog.result == "success",
            _scope(actor),
        )
        .group_by(AuditLog.actor_id)
        .order_by(total.desc(), AuditLog.actor_id)
        .limit(MAX_GROUPS)  # the busiest first: a cut never drops the highest volumes
    )
    totals = {staff_id: (int(r or 0), int(e or 0)) for staff_id, r, e in db.session.execute(query)}
    people = {
        s.id: (s.full_name, u)
        for s, u in db.session.execute(
            select(Staff, OrgUnit.name).join(OrgUnit, OrgUnit.id == Staff.org_unit_id).where(Staff.id.in_(totals))
        )
    }
    rows = [
        Volume(i, people.get(i, ("（已删除）", ""))[0], people.get(i, ("", ""))[1], r, e)
        for i, (r, e) in totals.items()
    ]
    factor = setting("AUDIT_VOLUME_FACTOR")
    threshold = setting("AUDIT_VOLUME_THRESHOLD")
    reveal_median = median([v.reveals for v in rows if v.reveals]) if any(v.reveals for v in rows) else 0
    export_median = median([v.exports for v in rows if v.exports]) if any(v.exports for v in rows) else 0
    for v in rows:
        v.unusual = (
            v.reveals > threshold
            or v.exports > threshold
            or (len(rows) > 2 and reveal_median and v.reveals > factor * reveal_median)
            or (len(rows) > 2 and export_median and v.exports > factor * export_median)
        )
    rows.sort(key=lambda v: (not v.unusual, -(v.reveals + v.exports), v.staff_id))
    return rows, reveal_median, export_median


def refusals(*, actor, first, last, before=None, limit=50):
    """Refused requests (result denied) in the period, newest first: (rows, next_before)."""
    require_permission(actor, "audit.view")
    start, end = _bounds(first, last)
    query = select(AuditLog).where(
        AuditLog.occurred_at >= start, AuditLog.occurred_at < end, AuditLog.result == "denied", _scope(actor)
    )
    return _page(query, before, limit)


def conduct_cases(*, actor, before=None, limit=50):
    """Feedback cases from complaints about a staff member, handled in the auditor's subtree, newest first (read-only;
    never the texts): (rows, next_before)."""
    from backend.feedback import cases
    from backend.feedback.models import FeedbackCase

    require_permission(actor, "audit.view")
    query = cases.visible(select(FeedbackCase), actor).where(FeedbackCase.subject_staff_id.is_not(None))
    if before:
        query = query.where(FeedbackCase.id < before)
    rows = db.session.scalars(query.order_by(FeedbackCase.id.desc()).limit(limit + 1)).all()
    return rows[:limit], (rows[limit - 1].id if len(rows) > limit else None)
