"""Org tree rules and the data-scope helpers."""

import pytest
from sqlalchemy import select

from backend.audit.models import AuditLog
from backend.errors import PermissionDenied
from backend.extensions import db
from backend.orgs import service
from backend.orgs.models import OrgUnit
from backend.orgs.scope import OrgUnitNotFound, get_unit_in_scope, scoped, subtree_unit_ids
from backend.staff.models import Staff


def test_create_unit_sets_level_path_and_audits(world):
    unit = service.create_unit(actor=world.sys_admin, parent_id=world.x1.id, name="新网格")
    assert unit.level == "grid"
    assert unit.path == f"{world.x1.path}{unit.id}/"
    assert unit.depth == world.x1.depth + 1
    row = db.session.scalars(select(AuditLog).where(AuditLog.action == "orgs.create")).one()
    assert row.object_id == str(unit.id) and row.actor_id == world.sys_admin.id


def test_create_unit_below_grid_raises_invalid_parent(world):
    with pytest.raises(service.InvalidParent):
        service.create_unit(actor=world.sys_admin, parent_id=world.x1_grid.id, name="不可能")


def test_create_unit_with_sibling_name_raises_name_taken(world):
    with pytest.raises(service.UnitNameTaken):
        service.create_unit(actor=world.sys_admin, parent_id=world.city.id, name="青山县")


def test_create_unit_outside_subtree_is_refused_like_missing(world):
    with pytest.raises(OrgUnitNotFound):
        service.create_unit(actor=world.sys_admin_y, parent_id=world.x.id, name="越权")
    with pytest.raises(OrgUnitNotFound):
        service.create_unit(actor=world.sys_admin_y, parent_id=999999, name="不存在")


def test_create_unit_without_manage_permission_raises_permission_denied(world):
    for actor in (world.security_admin, world.auditor, world.staff_x, world.supervisor_parent):
        with pytest.raises(PermissionDenied):
            service.create_unit(actor=actor, parent_id=world.x.id, name="无权")


def test_blank_name_raises_validation(world):
    from backend.errors import ValidationFailed

    with pytest.raises(ValidationFailed):
        service.create_unit(actor=world.sys_admin, parent_id=world.x.id, name="   ")


def test_rename_unit_in_scope(world):
    unit = service.rename_unit(actor=world.sys_admin_y, unit_id=world.y1.id, name="滨河服务站", code="320101")
    assert (unit.name, unit.code) == ("滨河服务站", "320101")
    with pytest.raises(OrgUnitNotFound):
        service.rename_unit(actor=world.sys_admin_y, unit_id=world.x1.id, name="越权")


def test_list_subtree_returns_only_descendants(world):
    names = {u.name for u in service.list_subtree(actor=world.staff_x)}
    assert names == {"青山县", "青山镇服务站", "青山镇第一网格"}
    assert {u.id for u in service.list_subtree(actor=world.supervisor_parent)} >= {world.x.id, world.y.id}


def test_path_prefix_does_not_match_sibling_with_longer_id(world):
    """'/1/2/' must not match '/1/23/': paths end with a slash so a prefix is always a whole id."""
    ids = set(db.session.scalars(subtree_unit_ids(world.staff_x)))
    assert world.y.id not in ids and world.y1.id not in ids


def test_scoped_query_filters_rows_by_unit(world):
    visible = set(db.session.scalars(scoped(select(Staff.id), world.staff_y, Staff.org_unit_id)))
    assert world.staff_y.id in visible and world.security_admin_y.id in visible
    assert world.staff_x.id not in visible and world.target.id not in visible


def test_get_unit_in_scope_rejects_garbage_ids(world):
    for bad in ("abc", None, -1):
        with pytest.raises(OrgUnitNotFound):
            get_unit_in_scope(world.staff_x, bad)


def test_build_tree_nests_children(world):
    tree = service.build_tree(service.list_subtree(actor=world.staff_x))
    ((root, children),) = tree
    assert root.id == world.x.id
    assert [c[0].id for c in children] == [world.x1.id]
    assert [g[0].id for g in children[0][1]] == [world.x1_grid.id]


def test_ancestors_from_root(world):
    assert [u.id for u in service.list_ancestors(world.x1)] == [world.province.id, world.city.id, world.x.id]


def test_path_index_exists():
    indexes = {ix.name for ix in OrgUnit.__table__.indexes}
    assert "ix_org_unit_path" in indexes
