"""The unit tree shown on the left of scoped pages."""

from backend.orgs.service import build_tree, list_subtree


def unit_tree(actor, levels=2):
    """The actor's subtree down to `levels` below their own unit, nested for the tree macro."""
    return build_tree(list_subtree(actor=actor, max_depth=actor.org_unit.depth + levels))
