"""Data scope in one place: a staff member sees and changes only what lies in their unit's subtree (本部门及以下).

Every scoped query and write goes through these helpers. Outside the scope is indistinguishable from missing to the
caller; the error is marked so the portal audits the refusal (backend/denials.py).
"""

from sqlalchemy import select

from backend import denials
from backend.errors import NotFound, PermissionDenied
from backend.extensions import db
from backend.orgs.models import OrgUnit


class OrgUnitNotFound(NotFound):
    code = "orgs.not_found"
    message = "未找到该组织机构"


def require_permission(actor, permission):
    """Raise PermissionDenied unless the (active) actor's roles grant `permission`."""
    if actor is None or not actor.can(permission):
        raise PermissionDenied(details={"permission": permission})


def subtree_unit_ids(actor):
    """A SELECT of the ids of every unit in the actor's subtree (an indexed prefix scan on org_unit.path)."""
    return select(OrgUnit.id).where(OrgUnit.path.startswith(actor.scope_path, autoescape=True))


def scoped(query, actor, unit_id_column):
    """Restrict `query` to rows whose `unit_id_column` lies in the actor's subtree."""
    return query.where(unit_id_column.in_(subtree_unit_ids(actor)))


def in_scope(actor, unit):
    return unit is not None and unit.path.startswith(actor.scope_path)


def get_unit_in_scope(actor, unit_id, *, lock=False):
    """Return the unit `unit_id` if it lies in the actor's subtree; otherwise raise OrgUnitNotFound."""
    try:
        unit_id = int(unit_id)
    except (TypeError, ValueError):
        raise OrgUnitNotFound() from None
    query = select(OrgUnit).where(OrgUnit.id == unit_id)
    if lock:
        query = query.with_for_update(of=OrgUnit)
    unit = db.session.scalars(query).first()
    if unit is None:
        raise OrgUnitNotFound()
    if not in_scope(actor, unit):
        raise denials.mark(OrgUnitNotFound(), object_type="org_unit", object_id=unit_id)
    return unit


def get_scoped(model, object_id, *, actor, unit_column, not_found, lock=False):
    """The `model` row `object_id` if its `unit_column` lies in the actor's subtree, else raise `not_found`.

    Garbage ids, missing rows and rows outside the scope all raise the same error, so ids cannot be probed.
    """
    try:
        object_id = int(object_id)
    except (TypeError, ValueError):
        raise not_found() from None
    query = scoped(select(model).where(model.id == object_id), actor, unit_column)
    if lock:
        query = query.with_for_update(of=model)
    found = db.session.scalars(query).first()
    if found is None:
        if denials.exists(model, object_id):
            raise denials.mark(not_found(), object_type=model.__tablename__, object_id=object_id)
        raise not_found()
    return found
