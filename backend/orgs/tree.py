"""The unit tree of the portal's sidebar, bounded by depth x fan-out rather than by the size of the subtree.

A page shows the actor's own unit, the chain of units from it down to the unit the page is about, and the children
of every unit on that chain; everything else is collapsed and loaded on demand (`children`). Each call costs a
constant number of statements whatever the tree's size: at most one to place the current unit, one for the children.
"""

from dataclasses import dataclass, field

from sqlalchemy import exists, select
from sqlalchemy.orm import aliased

from backend.extensions import db
from backend.orgs.models import LEVEL_LABELS, OrgUnit
from backend.orgs.scope import get_unit_in_scope, require_permission

MAX_ID = 2**63 - 1


@dataclass
class TreeNode:
    """One unit of the sidebar. `children` is None while collapsed (not loaded), a list once expanded."""

    id: int
    name: str
    level: str
    has_children: bool
    children: list | None = field(default=None)

    @property
    def level_label(self):
        return LEVEL_LABELS[self.level]

    @property
    def expanded(self):
        return self.children is not None


def _children_of(parent_ids):
    """{parent_id: [TreeNode, ...]} of the direct children of `parent_ids`, by name, each knowing whether it has
    children of its own: one statement (an EXISTS per row on the parent_id index, not one query per node)."""
    child = aliased(OrgUnit)
    has_children = exists().where(child.parent_id == OrgUnit.id).label("has_children")
    query = (
        select(OrgUnit.id, OrgUnit.parent_id, OrgUnit.name, OrgUnit.level, has_children)
        .where(OrgUnit.parent_id.in_(parent_ids))
        .order_by(OrgUnit.name, OrgUnit.id)
    )
    found = {parent_id: [] for parent_id in parent_ids}
    for row in db.session.execute(query):
        found[row.parent_id].append(TreeNode(row.id, row.name, row.level, bool(row.has_children)))
    return found


def _chain(actor, current_id):
    """Ids from the actor's unit down to `current_id` (both included) when it lies in scope; else the actor's unit."""
    root = actor.org_unit
    if not isinstance(current_id, int) or not 0 < current_id <= MAX_ID or current_id == root.id:
        return [root.id]
    path = db.session.scalar(
        select(OrgUnit.path).where(OrgUnit.id == current_id, OrgUnit.path.startswith(actor.scope_path, autoescape=True))
    )
    if path is None:  # missing or outside the scope: the page itself answers for that
        return [root.id]
    return [int(x) for x in path.strip("/").split("/")][root.depth :]


def tree_nodes(*, actor, current_id=None):
    """The sidebar's tree for a page about `current_id`: [root TreeNode] with the chain to `current_id` expanded.

    :raises PermissionDenied: without orgs.view.
    """
    require_permission(actor, "orgs.view")
    root = actor.org_unit
    by_parent = _children_of(_chain(actor, current_id))
    for nodes in by_parent.values():
        for node in nodes:
            if node.id in by_parent:
                node.children = by_parent[node.id]
    return [TreeNode(root.id, root.name, root.level, bool(by_parent[root.id]), by_parent[root.id])]


def child_nodes(*, actor, parent_id):
    """The direct children of a unit in scope, for expanding it.

    :raises PermissionDenied: without orgs.view.
    :raises OrgUnitNotFound: the parent is missing, not an id, or outside the actor's subtree (one answer for all).
    """
    require_permission(actor, "orgs.view")
    if not isinstance(parent_id, int) or not 0 < parent_id <= MAX_ID:
        parent_id = None
    parent = get_unit_in_scope(actor, parent_id)
    return _children_of([parent.id])[parent.id]
