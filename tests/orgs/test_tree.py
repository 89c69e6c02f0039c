"""The sidebar's unit tree (issue 12): bounded by depth x fan-out, a constant number of statements, expanded on demand
from orgs.tree within the actor's scope."""

import re

import pytest

from backend.db import transaction
from backend.errors import PermissionDenied
from backend.extensions import db
from backend.orgs.models import OrgUnit
from backend.orgs.scope import OrgUnitNotFound
from backend.orgs.tree import child_nodes, tree_nodes
from tests.factories import create_staff, create_unit, unique
from tests.helpers import sql_statements

FAN_OUT = (4, 4, 4, 3)  # cities per province, counties per city, stations per county, grids per station: 276 units


def _big_tree():
    """A province of 1 + 4 + 16 + 64 + 192 = 277 units, in one transaction; returns (province, a grid at the bottom)."""
    province = create_unit(name=unique("大省"))
    level = [province]
    with transaction():
        for fan_out in FAN_OUT:
            below = []
            for parent in level:
                for i in range(fan_out):
                    unit = OrgUnit(
                        parent_id=parent.id, level=parent.child_level, name=f"{parent.name[:40]}-{i}", path="", depth=0
                    )
                    unit.depth = parent.depth + 1
                    db.session.add(unit)
                    db.session.flush()
                    unit.path = f"{parent.path}{unit.id}/"
                    below.append(unit)
            level = below
    return province, level[-1]


def _walk(nodes):
    for node in nodes:
        yield node
        yield from _walk(node.children or [])


def test_the_chain_to_the_current_unit_is_expanded_and_the_rest_collapsed(world):
    (root,) = tree_nodes(actor=world.supervisor_parent, current_id=world.x1_grid.id)
    assert root.id == world.city.id and root.expanded
    by_id = {node.id: node for node in _walk([root])}
    assert {world.x.id, world.y.id, world.x1.id, world.x1_grid.id} <= set(by_id)
    assert by_id[world.x.id].expanded and by_id[world.x1.id].expanded  # on the chain
    assert by_id[world.y.id].has_children and not by_id[world.y.id].expanded  # a sibling: collapsed, expandable
    assert world.y1.id not in by_id
    assert not by_id[world.x1_grid.id].has_children


def test_without_a_current_unit_only_the_actors_children_show(world):
    (root,) = tree_nodes(actor=world.supervisor_parent)
    assert [n.name for n in root.children] == sorted([world.x.name, world.y.name])
    assert all(n.has_children and not n.expanded for n in root.children)


@pytest.mark.parametrize("current", ["y_grid_outside", "missing", "garbage", "huge"])
def test_a_current_unit_outside_the_scope_shows_the_actors_own_tree(world, current):
    y_grid = create_unit(parent=world.y1)
    current_id = {"y_grid_outside": y_grid.id, "missing": 999_999_999, "garbage": "1 OR 1=1", "huge": 2**70}[current]
    (root,) = tree_nodes(actor=world.staff_x, current_id=current_id)
    assert root.id == world.x.id
    assert {n.id for n in _walk([root])} == {world.x.id, world.x1.id}


def test_the_tree_needs_orgs_view(world):
    with pytest.raises(PermissionDenied):
        tree_nodes(actor=create_staff(unit=world.x, roles=()))


def test_the_tree_is_bounded_by_depth_and_fan_out_and_costs_constant_statements(world):
    province, deep_grid = _big_tree()
    actor = create_staff(unit=province, roles=("supervisor",))
    for staff in (actor, world.supervisor_parent):  # loaded as a request loads them, before counting
        assert staff.can("orgs.view") and staff.org_unit.path
    small_id, deep_id = world.x1_grid.id, deep_grid.id
    with sql_statements() as small:
        tree_nodes(actor=world.supervisor_parent, current_id=small_id)
    with sql_statements() as big:
        (root,) = tree_nodes(actor=actor, current_id=deep_id)
    nodes = list(_walk([root]))
    assert len(nodes) <= 1 + sum(FAN_OUT)  # the chain's children only: 16 of 277 units
    assert deep_id in {n.id for n in nodes}
    assert len(big) == len(small) <= 2, "\n\n".join(big)


def test_expanding_a_unit_returns_its_children_in_one_statement(world):
    assert world.staff_x.can("orgs.view") and world.staff_x.org_unit.path
    x1_id = world.x1.id
    with sql_statements() as seen:
        nodes = child_nodes(actor=world.staff_x, parent_id=x1_id)
    assert [(n.id, n.has_children, n.expanded) for n in nodes] == [(world.x1_grid.id, False, False)]
    assert len(seen) == 2  # the parent in scope, its children with has_children


@pytest.mark.parametrize("parent", ["outside", "missing", "garbage", "zero", "huge"])
def test_expanding_outside_the_scope_is_not_found(world, parent):
    parent_id = {"outside": world.y.id, "missing": 999_999_999, "garbage": "x", "zero": 0, "huge": 2**70}[parent]
    with pytest.raises(OrgUnitNotFound):
        child_nodes(actor=world.staff_x, parent_id=parent_id)


# --- the portal: pages and the fragment route ---


def _tree_html(html):
    return re.search(r'<nav class="unit-tree".*?</nav>', html, re.S).group(0)


def test_a_page_renders_the_chain_not_the_subtree(portal, world):
    province, deep_grid = _big_tree()
    actor = create_staff(unit=province, roles=("supervisor",))
    portal.login(actor)
    html = _tree_html(portal.get(f"/veterans/?unit={deep_grid.id}", expect=200).text)
    assert html.count("<li") <= 1 + sum(FAN_OUT)  # not 277
    assert f'href="/veterans/?unit={deep_grid.id}" title="网格" class="current" aria-current="page"' in html
    collapsed = re.findall(r'aria-expanded="false" hx-get="/orgs/tree\?for=veterans&amp;parent=(\d+)"', html)
    assert len(collapsed) == sum(FAN_OUT[:3]) - 3  # the chain's siblings with children of their own


def test_page_statements_do_not_grow_with_the_tree(portal, world):
    province, deep_grid = _big_tree()
    big_actor = create_staff(unit=province, roles=("supervisor",))
    counts = []
    for actor, unit in ((world.supervisor_parent, world.x1_grid), (big_actor, deep_grid)):
        portal.login(actor)
        portal.get(f"/orgs/{unit.id}", expect=200)
        with sql_statements() as seen:
            portal.get(f"/orgs/{unit.id}", expect=200)
        counts.append(len(seen))
        portal.post("/logout")
    assert counts[0] == counts[1], counts


def test_the_fragment_lists_children_with_links_to_the_page(portal, world):
    portal.login(world.staff_x)
    response = portal.get(f"/orgs/tree?for=travel&parent={world.x.id}", headers={"HX-Request": "true"}, expect=200)
    assert "<html" not in response.text
    assert f'href="/travel/?unit={world.x1.id}"' in response.text
    assert f'hx-get="/orgs/tree?for=travel&amp;parent={world.x1.id}"' in response.text
    assert f'aria-controls="unit-tree-{world.x1.id}" aria-expanded="false"' in response.text
    grid = portal.get(f"/orgs/tree?for=orgs&parent={world.x1.id}", headers={"HX-Request": "true"}, expect=200).text
    assert f'href="/orgs/{world.x1_grid.id}"' in grid and "tree-toggle" not in grid


def test_the_fragment_without_htmx_sends_to_the_page_for_the_unit(portal, world):
    portal.login(world.staff_x)
    response = portal.get(f"/orgs/tree?for=figures&parent={world.x1.id}", expect=302)
    assert response.headers["Location"] == f"/registration/figures?unit={world.x1.id}"


@pytest.mark.parametrize(
    "query",
    ["for=veterans&parent={y}", "for=veterans&parent=999999999", "for=veterans&parent=abc", "for=veterans",
     "for=auth.logout&parent={x1}", "parent={x1}"],
)  # fmt: skip
def test_the_fragment_outside_the_scope_or_page_list_is_not_found(portal, world, query):
    portal.login(world.staff_x)
    url = "/orgs/tree?" + query.format(y=world.y.id, x1=world.x1.id)
    portal.get(url, headers={"HX-Request": "true"}, expect=404)


@pytest.mark.parametrize(
    "url, who",
    [("/orgs/{id}", "staff_x"), ("/staff/?unit={id}", "security_admin"), ("/veterans/?unit={id}", "staff_x"),
     ("/veterans/coverage?unit={id}", "staff_x"), ("/registration/?unit={id}", "staff_x"),
     ("/registration/figures?unit={id}", "staff_x"), ("/travel/?unit={id}", "staff_x")],
)  # fmt: skip
def test_every_page_with_the_tree_marks_the_selected_unit(portal, world, url, who):
    portal.login(getattr(world, who))
    page = url.format(id=world.x1.id)
    html = _tree_html(portal.get(page, expect=200).text)
    assert f'<a href="{page}" title="乡镇（街道）服务站" class="current" aria-current="page">' in html
