"""The unit tree shown on the left of scoped pages: the chain to the current unit is rendered, the rest is expanded
on demand from orgs.tree. Links are a prefix built once per page plus the unit id (no url_for per node)."""

from flask import url_for

from backend.orgs.tree import tree_nodes

# The pages that show the tree, by the `for` key of orgs.tree: (endpoint, query parameter naming the unit). A fixed
# allow-list: the fragment route never builds a link to an endpoint named by the request.
PAGES = {
    "orgs": ("orgs.detail", None),  # the unit id is the last path segment: /orgs/<id>
    "staff": ("staff.index", "unit"),
    "veterans": ("veterans.index", "unit"),
    "coverage": ("veterans.coverage", "unit"),
    "registration": ("registration.index", "unit"),
    "figures": ("registration.figures", "unit"),
    "travel": ("travel.index", "unit"),
}
KEYS = {endpoint: key for key, (endpoint, _) in PAGES.items()}


def unit_tree(actor, current_id=None):
    """The tree for a page about `current_id` (None, missing or out of scope: the actor's own unit)."""
    return tree_nodes(actor=actor, current_id=current_id)


def page_link(key):
    """The link to page `key` with a unit selected, less the unit id."""
    endpoint, param = PAGES[key]
    if param is None:
        return url_for(endpoint, unit_id=1).removesuffix("1")
    return f"{url_for(endpoint)}?{param}="


def tree_links(endpoint):
    """{key, page, fragment}: the link prefixes of the tree on the page `endpoint` (two url_for per page)."""
    key = KEYS[endpoint]
    return {"key": key, "page": page_link(key), "fragment": f"{url_for('orgs.tree', **{'for': key})}&parent="}
