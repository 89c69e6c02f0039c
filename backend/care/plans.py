"""Contact plans (常态化联系): the interval in force, the due date, attention and assignee, per-unit policies.

Due date: the last contact + the interval (the attention interval for a veteran flagged for attention); a follow-up
date set at the last contact wins when earlier; a veteran never contacted is due from the placement date (else the
plan's creation) + the interval. Overdue: due_on < today in China Standard Time. `due_on` is stored on the plan.
"""

from datetime import timedelta

from flask import current_app
from sqlalchemy import select

from backend.audit import service as audit_service
from backend.care.models import ContactPlan, ContactPolicy
from backend.db import after_commit, transaction
from backend.errors import ValidationFailed
from backend.extensions import db
from backend.orgs.models import OrgUnit
from backend.orgs.scope import get_unit_in_scope, require_permission
from backend.registration.windows import today_cst
from backend.staff.models import Staff
from backend.veterans.models import Veteran
from backend.veterans.service import get_veteran
from config.care import CareContactSettings


def setting(name):
    return current_app.config.get(name, getattr(CareContactSettings, name))


def _path_ids(path):
    return [int(p) for p in (path or "").strip("/").split("/") if p]


def policy_for(unit_path):
    """(interval_days, attention_interval_days) of the nearest unit up the tree with a policy, else the defaults."""
    ids = _path_ids(unit_path)
    found = {p.unit_id: p for p in db.session.scalars(select(ContactPolicy).where(ContactPolicy.unit_id.in_(ids)))}
    for unit_id in reversed(ids):
        if unit_id in found:
            return found[unit_id].interval_days, found[unit_id].attention_interval_days
    return setting("CARE_CONTACT_INTERVAL_DAYS"), setting("CARE_ATTENTION_INTERVAL_DAYS")


def compute_due(*, interval_days, base_on, last_contact_on=None, follow_up_on=None):
    """The due date: (last contact or base date) + interval; an earlier follow-up date wins."""
    due = (last_contact_on or base_on) + timedelta(days=interval_days)
    if follow_up_on is not None and follow_up_on < due:
        due = follow_up_on
    return due


def refresh(plan, veteran, intervals=None):
    """Recompute the plan's interval, location copy and due date from its fields (no commit)."""
    interval, attention_interval = intervals or policy_for(veteran.unit_path)
    plan.interval_days = attention_interval if plan.attention else interval
    plan.station_id, plan.unit_path = veteran.station_id, veteran.unit_path
    last = plan.last_contact_on
    plan.covered_until = last + timedelta(days=plan.interval_days) if last else None
    plan.due_on = compute_due(
        interval_days=plan.interval_days,
        base_on=plan.base_on,
        last_contact_on=plan.last_contact_on,
        follow_up_on=plan.follow_up_on,
    )
    return plan


def days_overdue(plan, today=None):
    return max(0, ((today or today_cst()) - plan.due_on).days)


def is_overdue(plan, today=None):
    return plan.due_on < (today or today_cst())


def plan_of(veteran, *, create=True):
    """The veteran's plan; created on first need (inside the caller's transaction when there is one)."""
    plan = db.session.scalars(select(ContactPlan).where(ContactPlan.veteran_id == veteran.id)).first()
    if plan is None and create:
        plan = ContactPlan(veteran_id=veteran.id, base_on=veteran.placement_date or today_cst(), attention=False)
        refresh(plan, veteran)
        db.session.add(plan)
        db.session.flush()
    return plan


def view_plan(*, actor, veteran):
    """The plan of a veteran the caller already resolved in scope; when none is stored yet, an unsaved one with the
    same arithmetic (a page view writes nothing; the weekly job and the first contact store it)."""
    require_permission(actor, "care.view")
    plan = plan_of(veteran, create=False)
    if plan is None:
        plan = refresh(ContactPlan(base_on=veteran.placement_date or today_cst(), attention=False), veteran)
    return plan


def assignee_choices(veteran):
    """Staff of the veteran's station (and its grids), and the veteran's grid worker by name."""
    station = db.session.get(OrgUnit, veteran.station_id)
    staff = db.session.scalars(
        select(Staff)
        .join(OrgUnit, OrgUnit.id == Staff.org_unit_id)
        .where(OrgUnit.path.startswith(station.path, autoescape=True), Staff.is_active.is_(True))
        .order_by(Staff.id)
        .limit(200)
    ).all()
    return staff


def update_plan(*, actor, veteran_id, attention, assignee):
    """Set the attention flag and the assignee ("staff:<id>", "grid" for the grid worker, or "" for none).

    :raises PermissionDenied, VeteranNotFound, ValidationFailed
    """
    require_permission(actor, "care.contact")
    with transaction():
        veteran = get_veteran(actor=actor, veteran_id=veteran_id, permission="care.contact", lock=True)
        plan = plan_of(veteran)
        staff_id, grid_worker = None, None
        if assignee == "grid":
            if not veteran.grid_worker:
                raise ValidationFailed(details={"assignee": "该退役军人未登记网格员"})
            grid_worker = veteran.grid_worker
        elif assignee:
            allowed = {f"staff:{s.id}": s.id for s in assignee_choices(veteran)}
            if assignee not in allowed:
                raise ValidationFailed(details={"assignee": "请选择本服务站的工作人员或网格员"})
            staff_id = allowed[assignee]
        plan.attention = bool(attention)
        plan.assignee_staff_id, plan.assignee_grid_worker = staff_id, grid_worker
        refresh(plan, veteran)
        audit_service.record(
            actor=actor,
            action="care.plan_update",
            object_type="veteran",
            object_id=veteran.id,
            details={"attention": plan.attention, "assignee_staff_id": staff_id, "grid_worker": bool(grid_worker)},
        )
    return plan


def get_policy(*, actor, unit_id):
    """(unit, own policy or None, intervals in force) for a unit in scope."""
    require_permission(actor, "care.view")
    unit = get_unit_in_scope(actor, unit_id)
    return unit, db.session.get(ContactPolicy, unit.id), policy_for(unit.path)


def set_policy(*, actor, unit_id, interval_days, attention_interval_days):
    """Set a unit's policy; the plans below it are recomputed by the care.recompute_plans task.

    :raises PermissionDenied, OrgUnitNotFound, ValidationFailed
    """
    require_permission(actor, "care.contact")
    errors = {}
    for name, value in (("interval_days", interval_days), ("attention_interval_days", attention_interval_days)):
        if not isinstance(value, int) or not 1 <= value <= 730:
            errors[name] = "请输入 1 到 730 之间的天数"
    if errors:
        raise ValidationFailed(details=errors)
    with transaction():
        unit = get_unit_in_scope(actor, unit_id, lock=True)
        policy = db.session.get(ContactPolicy, unit.id) or ContactPolicy(unit_id=unit.id)
        policy.interval_days, policy.attention_interval_days = interval_days, attention_interval_days
        policy.updated_by_id = actor.id
        db.session.add(policy)
        audit_service.record(
            actor=actor,
            action="care.policy_set",
            object_type="org_unit",
            object_id=unit.id,
            details={"interval_days": interval_days, "attention_interval_days": attention_interval_days},
        )
        from backend import tasks as task_queue
        from backend.care import tasks

        after_commit(task_queue.enqueue, tasks.recompute_plans, unit.id)
    return policy


def recompute_under(path, batch=1000):
    """Recompute every plan whose veteran lies under `path` (keyset batches; policies resolved once per unit)."""
    done, after, cache = 0, 0, {}
    while True:
        with transaction():
            rows = db.session.execute(
                select(ContactPlan, Veteran)
                .join(Veteran, Veteran.id == ContactPlan.veteran_id)
                .where(Veteran.unit_path.startswith(path, autoescape=True), ContactPlan.id > after)
                .order_by(ContactPlan.id)
                .limit(batch)
            ).all()
            for plan, veteran in rows:
                if veteran.unit_path not in cache:
                    cache[veteran.unit_path] = policy_for(veteran.unit_path)
                refresh(plan, veteran, cache[veteran.unit_path])
        if not rows:
            return done
        done, after = done + len(rows), rows[-1][0].id


def resync_moved():
    """Plans whose veteran moved: copy the new station and path, and recompute (set-based find, small fix-ups)."""
    moved = select(ContactPlan.id).join(Veteran, Veteran.id == ContactPlan.veteran_id)
    moved = moved.where(ContactPlan.unit_path != Veteran.unit_path).limit(5000)
    ids = db.session.scalars(moved).all()
    with transaction():
        for plan in db.session.scalars(select(ContactPlan).where(ContactPlan.id.in_(ids))):
            refresh(plan, db.session.get(Veteran, plan.veteran_id))
    return len(ids)


def ensure_plans(batch=1000):
    """A plan for every active veteran without one (keyset batches), so the lists see never-contacted veterans."""
    created, after, cache = 0, 0, {}
    while True:
        with transaction():
            veterans = db.session.scalars(
                select(Veteran)
                .outerjoin(ContactPlan, ContactPlan.veteran_id == Veteran.id)
                .where(ContactPlan.id.is_(None), Veteran.status == "active", Veteran.id > after)
                .order_by(Veteran.id)
                .limit(batch)
            ).all()
            for veteran in veterans:
                if veteran.unit_path not in cache:
                    cache[veteran.unit_path] = policy_for(veteran.unit_path)
                plan = ContactPlan(
                    veteran_id=veteran.id, base_on=veteran.placement_date or today_cst(), attention=False
                )
                db.session.add(refresh(plan, veteran, cache[veteran.unit_path]))
        if not veterans:
            return created
        created, after = created + len(veterans), veterans[-1].id
