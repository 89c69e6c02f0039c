"""Recent activity for the workbench (工作台): business events of the audit log within the actor's scope, with
Chinese labels and people's names (never login names, role codes or object codes).

Only business actions are shown, each to those allowed to see its object; logins, refusals, reveals and exports stay
in the audit log, which only the auditor reads (三员分立). Object names are resolved through scoped queries, so a
row whose object has since left the actor's subtree shows no name.
"""

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select

from backend.audit.models import AuditLog
from backend.audit.service import ACTION_LABELS
from backend.db import utcnow
from backend.extensions import db
from backend.orgs.scope import scoped

# action -> the permission that shows it
ACTIVITY_ACTIONS = {
    "registration.submitted": "registration.view",
    "registration.resubmitted": "registration.view",
    "registration.approved": "registration.view",
    "registration.returned": "registration.view",
    "registration.flagged": "registration.view",
    "registration.talk_held": "registration.view",
    "registration.talk_cancelled": "registration.view",
    "veterans.create": "veterans.view",
    "veterans.update": "veterans.view",
    "veterans.move": "veterans.view",
    "veterans.import": "veterans.import",
    "travel.reported": "travel.view",
    "travel.departed": "travel.view",
    "travel.returned": "travel.view",
    "travel.cancelled": "travel.view",
    "travel.followed_up": "travel.view",
}
# Labels for timeline actions that the audit log's table does not name yet.
EXTRA_LABELS = {
    "registration.talk_held": "约谈已进行",
    "registration.talk_cancelled": "约谈已取消",
    "travel.departed": "已出境",
    "travel.returned": "已返回",
    "travel.cancelled": "取消出行",
    "travel.followed_up": "记录跟进情况",
}


@dataclass
class Activity:
    occurred_at: object
    who: str  # a staff member's full name, or 「本人（小程序）」 / 「系统」
    what: str  # the Chinese label of the action
    object_name: str | None  # the veteran's name, or the import file's name
    object_type: str | None
    object_id: int | None


def _label(action):
    return ACTION_LABELS.get(action) or EXTRA_LABELS.get(action) or "其他操作"


def recent_activity(*, actor, limit=8, days=30):
    """The newest business events of the last `days` days in the actor's subtree that the actor may see, newest
    first. The time bound keeps the read to a recent slice of the log (indexed on occurred_at) however quiet the
    subtree has been."""
    actions = [a for a, permission in ACTIVITY_ACTIONS.items() if actor.can(permission)]
    if not actions:
        return []
    query = (
        select(AuditLog)
        .where(
            AuditLog.org_path.startswith(actor.scope_path, autoescape=True),
            AuditLog.action.in_(actions),
            AuditLog.result == "success",
            AuditLog.occurred_at >= utcnow() - timedelta(days=days),
        )
        .order_by(AuditLog.id.desc())
        .limit(limit)
    )
    rows = db.session.scalars(query).all()
    people = _staff_names({r.actor_id for r in rows if r.actor_type == "staff" and r.actor_id})
    objects = _object_names(actor, rows)
    return [
        Activity(
            occurred_at=r.occurred_at,
            who=_who(r, people),
            what=_label(r.action),
            object_name=objects.get((r.object_type, r.object_id)),
            object_type=r.object_type if (r.object_type, r.object_id) in objects else None,
            object_id=int(r.object_id) if (r.object_type, r.object_id) in objects else None,
        )
        for r in rows
    ]


def _who(row, people):
    if row.actor_type == "staff":
        return people.get(row.actor_id, "工作人员")
    if row.actor_type == "veteran":
        return "本人（小程序）"
    return "系统"


def _staff_names(ids):
    from backend.staff.models import Staff

    if not ids:
        return {}
    return dict(db.session.execute(select(Staff.id, Staff.full_name).where(Staff.id.in_(ids))).all())


def _ids(rows, object_type):
    return {int(r.object_id) for r in rows if r.object_type == object_type and (r.object_id or "").isdigit()}


def _object_names(actor, rows):
    """{(object_type, object_id as stored): display name} for objects still in the actor's scope."""
    from backend.registration.models import Registration
    from backend.travel.models import Trip
    from backend.veterans.models import ImportJob, Veteran

    found = {}
    lookups = (
        ("veteran", Veteran, Veteran.unit_id, select(Veteran.id, Veteran.name)),
        ("registration", Registration, Registration.unit_id, select(Registration.id, Veteran.name).join(Veteran)),
        ("trip", Trip, Trip.unit_id, select(Trip.id, Veteran.name).join(Veteran, Trip.veteran_id == Veteran.id)),
        ("import_job", ImportJob, ImportJob.unit_id, select(ImportJob.id, ImportJob.filename)),
    )
    for object_type, model, unit_column, query in lookups:
        ids = _ids(rows, object_type)
        if ids:
            for object_id, name in db.session.execute(scoped(query.where(model.id.in_(ids)), actor, unit_column)):
                found[(object_type, str(object_id))] = name
    return found
