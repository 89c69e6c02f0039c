"""Org tree operations: create and rename units, read the tree within scope."""

from sqlalchemy import func, select

from backend.audit import service as audit_service
from backend.db import transaction
from backend.errors import RuleViolation, ValidationFailed
from backend.extensions import db
from backend.names import clean_name
from backend.orgs.models import LEVELS, OrgUnit
from backend.orgs.scope import get_unit_in_scope, require_permission


class InvalidParent(RuleViolation):
    code = "orgs.invalid_parent"
    message = "上级机构不能再设下级，或层级不符"


class UnitNameTaken(RuleViolation):
    code = "orgs.name_taken"
    message = "同一上级机构下已有同名机构"


def _clean_name(name):
    name = clean_name(name)
    if not name or len(name) > 100:
        raise ValidationFailed(
            "机构名称不能为空，且不超过100个字", details={"name": "机构名称不能为空，且不超过100个字"}
        )
    return name


def _name_taken(parent_id, name, exclude_id=None):
    query = select(func.count()).select_from(OrgUnit).where(OrgUnit.parent_id == parent_id, OrgUnit.name == name)
    if exclude_id:
        query = query.where(OrgUnit.id != exclude_id)
    return db.session.scalar(query) > 0


def create_root_unit(*, name, code=None):
    """Create the province at the top of the tree (setup and demo only; not reachable from the portal)."""
    with transaction():
        unit = OrgUnit(parent_id=None, level=LEVELS[0], name=_clean_name(name), code=code, path="", depth=0)
        db.session.add(unit)
        db.session.flush()
        unit.path = f"/{unit.id}/"
    return unit


def create_unit(*, actor, parent_id, name, code=None):
    """Create a unit one level below `parent_id`.

    :raises PermissionDenied: without orgs.manage.
    :raises OrgUnitNotFound: the parent is missing or outside the actor's subtree.
    :raises InvalidParent: the parent is a grid (the lowest level).
    :raises UnitNameTaken: a sibling has the same name.
    """
    require_permission(actor, "orgs.manage")
    name = _clean_name(name)
    with transaction():
        parent = get_unit_in_scope(actor, parent_id, lock=True)
        if parent.child_level is None:
            raise InvalidParent()
        if _name_taken(parent.id, name):
            raise UnitNameTaken()
        unit = OrgUnit(
            parent_id=parent.id, level=parent.child_level, name=name, code=code or None, path="", depth=parent.depth + 1
        )
        db.session.add(unit)
        db.session.flush()
        unit.path = f"{parent.path}{unit.id}/"
        audit_service.record(actor=actor, action="orgs.create", object_type="org_unit", object_id=unit.id)
    return unit


def rename_unit(*, actor, unit_id, name, code=None):
    """Rename a unit in scope. Raises PermissionDenied, OrgUnitNotFound, UnitNameTaken."""
    require_permission(actor, "orgs.manage")
    name = _clean_name(name)
    with transaction():
        unit = get_unit_in_scope(actor, unit_id, lock=True)
        if _name_taken(unit.parent_id, name, exclude_id=unit.id):
            raise UnitNameTaken()
        unit.name, unit.code = name, code or None
        audit_service.record(actor=actor, action="orgs.rename", object_type="org_unit", object_id=unit.id)
    return unit


def get_unit(*, actor, unit_id):
    """A unit in the actor's subtree. Raises PermissionDenied, OrgUnitNotFound."""
    require_permission(actor, "orgs.view")
    return get_unit_in_scope(actor, unit_id)


def list_subtree(*, actor, max_depth=None):
    """Every unit in the actor's subtree (optionally down to an absolute depth), ordered for display as a tree."""
    require_permission(actor, "orgs.view")
    query = select(OrgUnit).where(OrgUnit.path.startswith(actor.scope_path, autoescape=True))
    if max_depth is not None:
        query = query.where(OrgUnit.depth <= max_depth)
    return db.session.scalars(query.order_by(OrgUnit.depth, OrgUnit.name)).all()


def build_tree(units):
    """Nest a flat list of units as [(unit, [children...])], roots being units whose parent is not in the list."""
    ids = {u.id for u in units}
    children = {}
    roots = []
    for unit in units:
        if unit.parent_id in ids:
            children.setdefault(unit.parent_id, []).append(unit)
        else:
            roots.append(unit)

    def nest(unit):
        return (unit, [nest(c) for c in sorted(children.get(unit.id, []), key=lambda u: u.name)])

    return [nest(r) for r in roots]


def list_children(*, actor, unit_id):
    """The direct children of a unit in scope."""
    unit = get_unit(actor=actor, unit_id=unit_id)
    return db.session.scalars(select(OrgUnit).where(OrgUnit.parent_id == unit.id).order_by(OrgUnit.name)).all()


def list_ancestors(unit):
    """The unit's ancestors from the root down (ids come from the path; no scope: callers show only names)."""
    ids = [int(x) for x in unit.path.strip("/").split("/")[:-1]]
    if not ids:
        return []
    rows = {u.id: u for u in db.session.scalars(select(OrgUnit).where(OrgUnit.id.in_(ids)))}
    return [rows[i] for i in ids if i in rows]
