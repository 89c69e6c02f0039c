"""Scoped reads for staff: the review queue and the figures per unit."""

import statistics
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select

from backend.extensions import db
from backend.orgs.models import OrgUnit
from backend.orgs.scope import get_unit_in_scope, require_permission, scoped
from backend.registration.models import Registration
from backend.veterans.models import Veteran

TABS = {
    "waiting": ("待审核", Registration.status == "submitted"),
    "returned": ("已退回", Registration.status == "returned"),
    "flagged": ("有关注事项", Registration.flagged.is_(True)),
    "approved": ("已通过", Registration.status == "approved"),
    "overdue": ("逾期未报", Registration.status == "overdue"),
}


def days_waiting(reg, now=None):
    if reg.status != "submitted" or reg.submitted_at is None:
        return None
    return ((now or datetime.now(UTC)) - reg.submitted_at).days


def review_queue(*, actor, year, tab="waiting", unit_id=None, grid_id=None, sort="waiting_desc", limit=200):
    """Registrations of one tab in the actor's subtree, oldest submission first by default."""
    require_permission(actor, "registration.view")
    query = scoped(select(Registration).where(Registration.year == year, TABS[tab][1]), actor, Registration.unit_id)
    if unit_id:
        unit = get_unit_in_scope(actor, unit_id)
        query = query.where(Registration.unit_id.in_(select(OrgUnit.id).where(OrgUnit.path.startswith(unit.path))))
    if grid_id:
        query = query.where(Registration.unit_id == grid_id)
    order = Registration.submitted_at.asc() if sort == "waiting_desc" else Registration.submitted_at.desc()
    return db.session.scalars(query.order_by(order, Registration.id).limit(limit)).all()


def tab_counts(*, actor, year):
    require_permission(actor, "registration.view")
    base = scoped(
        select(func.count()).select_from(Registration).where(Registration.year == year), actor, Registration.unit_id
    )
    return {tab: db.session.scalar(base.where(cond)) for tab, (_, cond) in TABS.items()}


@dataclass
class Figures:
    unit: OrgUnit
    veterans: int
    submitted: int
    approved: int
    returned: int
    overdue: int
    median_review_days: float | None

    def share(self, n):
        return round(100 * n / self.veterans, 1) if self.veterans else 0.0


def figures(*, actor, year, unit_id=None):
    """Per child unit of `unit_id` (default: the actor's unit): shares submitted, approved, returned, overdue and
    the median review time in days. Returns (own, [children])."""
    require_permission(actor, "registration.view")
    unit = get_unit_in_scope(actor, unit_id or actor.org_unit_id)
    children = db.session.scalars(select(OrgUnit).where(OrgUnit.parent_id == unit.id).order_by(OrgUnit.name)).all()
    return _figures(unit, year), [_figures(c, year) for c in children]


def _figures(unit, year):
    subtree = select(OrgUnit.id).where(OrgUnit.path.startswith(unit.path))
    veterans = db.session.scalar(
        select(func.count()).select_from(Veteran).where(Veteran.unit_id.in_(subtree), Veteran.status == "active")
    )
    rows = db.session.execute(
        select(Registration.status, Registration.first_submitted_at, Registration.decided_at).where(
            Registration.year == year, Registration.unit_id.in_(subtree)
        )
    ).all()
    submitted = sum(1 for r in rows if r.first_submitted_at is not None)
    durations = [
        (r.decided_at - r.first_submitted_at).total_seconds() / 86400
        for r in rows
        if r.status == "approved" and r.decided_at and r.first_submitted_at
    ]
    return Figures(
        unit=unit,
        veterans=veterans,
        submitted=submitted,
        approved=sum(1 for r in rows if r.status == "approved"),
        returned=sum(1 for r in rows if r.status == "returned"),
        overdue=sum(1 for r in rows if r.status == "overdue"),
        median_review_days=round(statistics.median(durations), 1) if durations else None,
    )


def figures_workbook(own, children, year):
    """An .xlsx of the figures, as bytes (through backend/exports.py, which escapes formula-like text)."""
    from backend.exports import workbook_bytes

    header = [
        "机构",
        "退役军人数",
        "已提交",
        "提交率%",
        "已通过",
        "通过率%",
        "退回补正",
        "逾期未报",
        "逾期率%",
        "审核用时中位数（天）",
    ]
    rows = (
        [
            f.unit.name,
            f.veterans,
            f.submitted,
            f.share(f.submitted),
            f.approved,
            f.share(f.approved),
            f.returned,
            f.overdue,
            f.share(f.overdue),
            f.median_review_days,
        ]
        for f in [own, *children]
    )
    return workbook_bytes([(f"{year}年度确认", header, rows)])


def export_figures(*, actor, year, unit_id=None):
    """The figures as .xlsx bytes; every export is audited."""
    from backend.audit import service as audit_service
    from backend.db import transaction

    own, children = figures(actor=actor, year=year, unit_id=unit_id)
    with transaction():
        audit_service.record(
            actor=actor,
            action="registration.export",
            object_type="org_unit",
            object_id=own.unit.id,
            details={"year": year},
        )
    return figures_workbook(own, children, year)
