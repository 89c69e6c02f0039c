"""Veteran records: validation, scope, moves with history, reveal with audit, search, coverage."""

from datetime import date

import pytest
from sqlalchemy import select

from backend.audit.models import AuditLog
from backend.errors import PermissionDenied, ValidationFailed
from backend.extensions import db
from backend.veterans import queries, service
from backend.veterans.models import VeteranHistory
from tests.factories import create_unit, create_veteran, valid_id_number


@pytest.fixture
def vets(world):
    world.units["x1_grid2"] = create_unit(parent=world.x1, name="青山镇第二网格")
    world.units["y1_grid"] = create_unit(parent=world.y1, name="滨河第一网格")
    return {
        "a": create_veteran(station=world.x1, grid=world.x1_grid, grid_worker="网格员甲"),
        "b": create_veteran(station=world.x1),
        "c": create_veteran(station=world.y1, grid=world.y1_grid),
    }


def test_create_derives_birth_and_gender_and_audits(world):
    number = "11010519491231002X"
    veteran = service.create_veteran(
        actor=world.staff_x,
        station_id=world.x1.id,
        grid_id=world.x1_grid.id,
        name="张三",
        id_number=number.lower(),
        phone="+86 138-0013-8000",
        placement_date=date(2010, 1, 1),
    )
    assert (veteran.birth_date, veteran.gender) == (date(1949, 12, 31), "F")
    assert veteran.id_number == number and veteran.phone == "13800138000"
    assert veteran.id_number_masked == "110105********002X" and veteran.phone_masked == "138****8000"
    assert veteran.unit_id == world.x1_grid.id
    assert db.session.scalars(select(AuditLog.action).where(AuditLog.object_type == "veteran")).all() == [
        "veterans.create"
    ]


def test_create_rejects_bad_fields_with_chinese_messages(world):
    with pytest.raises(ValidationFailed) as err:
        service.create_veteran(
            actor=world.staff_x, station_id=world.x1.id, name="", id_number="110105194912310021", phone="12345"
        )
    assert set(err.value.details) == {"name", "id_number", "phone"}
    assert "校验位" in err.value.details["id_number"]


def test_create_rejects_duplicate_id_number(world, vets):
    with pytest.raises(service.IdNumberTaken):
        service.create_veteran(actor=world.staff_x, station_id=world.x1.id, name="重复", id_number=vets["a"].id_number)


def test_create_outside_scope_or_grid_of_other_station_is_refused(world, vets):
    with pytest.raises(service.InvalidUnit):
        service.create_veteran(actor=world.staff_y, station_id=world.x1.id, name="越权", id_number=valid_id_number())
    with pytest.raises(service.InvalidUnit):
        service.create_veteran(
            actor=world.staff_x,
            station_id=world.x1.id,
            grid_id=world.y1_grid.id,
            name="错网格",
            id_number=valid_id_number(),
        )
    with pytest.raises(service.InvalidUnit):  # a county is not a station
        service.create_veteran(actor=world.staff_x, station_id=world.x.id, name="县", id_number=valid_id_number())


def test_permissions(world, vets):
    with pytest.raises(PermissionDenied):
        service.create_veteran(actor=world.supervisor_parent, station_id=world.x1.id, name="只读", id_number="x")
    for actor in (world.sys_admin, world.security_admin, world.auditor):
        with pytest.raises(PermissionDenied):
            service.get_veteran(actor=actor, veteran_id=vets["a"].id)
    with pytest.raises(PermissionDenied):
        service.reveal_veteran(actor=world.supervisor_parent, veteran_id=vets["a"].id)


def test_get_outside_scope_is_not_found(world, vets):
    with pytest.raises(service.VeteranNotFound):
        service.get_veteran(actor=world.staff_y, veteran_id=vets["a"].id)
    assert service.get_veteran(actor=world.supervisor_parent, veteran_id=vets["a"].id).id == vets["a"].id


def test_update_ignores_protected_fields_and_records_field_names(world, vets):
    veteran = service.update_veteran(
        actor=world.staff_x,
        veteran_id=vets["b"].id,
        address="新地址",
        station_id=world.y1.id,
        unit_id=1,
        id_number_hmac="forged",
    )
    assert veteran.address == "新地址" and veteran.station_id == world.x1.id and veteran.id_number_hmac != "forged"
    history = db.session.scalars(
        select(VeteranHistory).where(VeteranHistory.veteran_id == veteran.id).order_by(VeteranHistory.id)
    ).all()
    assert history[-1].details == {"fields": ["address"]}


def test_move_within_subtree_keeps_history(world, vets):
    grid2 = world.units["x1_grid2"]
    veteran = service.move_veteran(
        actor=world.staff_x, veteran_id=vets["a"].id, station_id=world.x1.id, grid_id=grid2.id
    )
    assert veteran.grid_id == grid2.id and veteran.unit_id == grid2.id
    entries = service.list_history(actor=world.staff_x, veteran_id=veteran.id)
    assert entries[0].action == "moved" and entries[0].details["to"]["grid_id"] == grid2.id


def test_move_outside_subtree_is_refused(world, vets):
    with pytest.raises(service.InvalidUnit):
        service.move_veteran(actor=world.staff_x, veteran_id=vets["a"].id, station_id=world.y1.id)
    with pytest.raises(service.VeteranNotFound):
        service.move_veteran(actor=world.staff_y, veteran_id=vets["a"].id, station_id=world.y1.id)


def test_reveal_writes_one_audit_row(world, vets):
    revealed = service.reveal_veteran(actor=world.staff_x, veteran_id=vets["a"].id)
    assert revealed == {"id_number": vets["a"].id_number, "phone": vets["a"].phone}
    rows = db.session.scalars(select(AuditLog).where(AuditLog.action == "veterans.reveal")).all()
    assert len(rows) == 1 and rows[0].object_id == str(vets["a"].id)


def test_search_by_id_number_finds_only_within_scope(world, vets):
    number = vets["a"].id_number
    found = queries.list_veterans(actor=world.staff_x, filters=queries.VeteranFilter(id_number=number.lower()))
    assert [v.id for v in found.rows] == [vets["a"].id]
    hidden = queries.list_veterans(actor=world.staff_y, filters=queries.VeteranFilter(id_number=number))
    assert hidden.rows == []


def test_list_filters_and_keyset_pages(world, vets):
    extra = [create_veteran(station=world.x1) for _ in range(5)]
    page1 = queries.list_veterans(actor=world.staff_x, filters=queries.VeteranFilter(), limit=3)
    page2 = queries.list_veterans(actor=world.staff_x, filters=queries.VeteranFilter(), after=page1.next_after, limit=3)
    page3 = queries.list_veterans(actor=world.staff_x, filters=queries.VeteranFilter(), after=page2.next_after, limit=3)
    ids = [v.id for v in page1.rows + page2.rows + page3.rows]
    # Station by station (unit_path), ids ascending within a unit: the grid's veteran after the station's own.
    assert ids == [vets["b"].id, *[e.id for e in extra], vets["a"].id]
    assert page3.next_after is None
    back = queries.list_veterans(
        actor=world.staff_x, filters=queries.VeteranFilter(), before=page2.prev_before, limit=3
    )
    assert [v.id for v in back.rows] == [v.id for v in page1.rows]
    grid = queries.list_veterans(actor=world.staff_x, filters=queries.VeteranFilter(grid_id=world.x1_grid.id))
    assert [v.id for v in grid.rows] == [vets["a"].id]
    assert queries.estimate_count(actor=world.staff_x, filters=queries.VeteranFilter()) == 7


def test_coverage_per_unit(world, vets):
    from tests.helpers import refresh_figures

    refresh_figures()  # aggregates slice (issue 12): coverage is read from the rollup
    own, children = queries.coverage(actor=world.supervisor_parent)
    assert (own.total, own.with_station, own.with_grid, own.with_worker) == (3, 3, 2, 1)
    by_name = {c.unit.name: c for c in children}
    assert by_name["青山县"].total == 2 and by_name["青山县"].share(by_name["青山县"].with_worker) == 50.0
    from backend.orgs.scope import OrgUnitNotFound

    with pytest.raises(OrgUnitNotFound):
        queries.coverage(actor=world.staff_y, unit_id=world.x.id)
