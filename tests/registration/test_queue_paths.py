"""The review queue reads a subtree as a range of registration.unit_path: the trigger keeps it, the plans use it."""

import pytest
from sqlalchemy import select, text

from backend.extensions import db
from backend.registration import queries
from backend.registration.models import Registration
from backend.registration.service import insert_once
from backend.veterans import service as veterans_service
from tests.factories import create_staff, create_veteran
from tests.veterans.test_lists import _plans, _seed


def _path(reg_id):
    return db.session.scalar(select(Registration.unit_path).where(Registration.id == reg_id))


def test_unit_path_set_on_every_insert_and_carried_on_move(world):
    year = 2030
    vet = create_veteran(station=world.x1, grid=world.x1_grid)
    orm = Registration(veteran_id=vet.id, unit_id=vet.unit_id, year=year, status="submitted", content={})
    db.session.add(orm)
    db.session.commit()
    core = insert_once({"veteran_id": vet.id, "unit_id": vet.unit_id, "year": year + 1, "status": "draft"})
    db.session.commit()
    assert _path(orm.id) == _path(core) == world.x1_grid.path
    city_staff = create_staff(unit=world.city, roles=("station_staff",))
    veterans_service.move_veteran(actor=city_staff, veteran_id=vet.id, station_id=world.y1.id)
    assert _path(orm.id) == _path(core) == world.y1.path
    page = queries.review_queue(actor=world.staff_y, filters=queries.QueueFilter(year=year))
    assert [r.id for r in page.rows] == [orm.id]
    assert queries.review_queue(actor=world.staff_x, filters=queries.QueueFilter(year=year)).rows == []


@pytest.mark.postgres
def test_queue_pages_are_index_walks_for_every_subtree(world, _db, as_owner):
    province, stations = _seed(world, per_unit=150)
    year = 2031
    db.session.execute(
        text(
            "INSERT INTO registration (veteran_id, unit_id, year, status, form_version, channel, return_reasons, "
            "flagged, submitted_at, created_at, updated_at, version_id) SELECT id, unit_id, :year, "
            "CASE WHEN id % 4 = 0 THEN 'submitted' ELSE 'approved' END, 1, 'online', '{}', false, "
            "now() - (id % 997) * interval '1 minute', now(), now(), 1 FROM veteran WHERE unit_path LIKE :root"
        ),
        {"year": year, "root": province.path + "%"},
    )
    with as_owner():
        db.session.execute(text("ANALYZE registration"))
    for unit in (stations[0], province):
        actor = create_staff(unit=unit, roles=("center_reviewer",))
        call = lambda a=actor: queries.review_queue(actor=a, filters=queries.QueueFilter(year=year))  # noqa: E731
        (page_plan,) = _plans(_db, call, table="registration")
        assert "ix_registration_queue" in page_plan or "ix_registration_scope" in page_plan, page_plan
        assert "Seq Scan" not in page_plan and "Join" not in page_plan, page_plan
        if unit is province:
            assert "Sort" not in page_plan, page_plan
