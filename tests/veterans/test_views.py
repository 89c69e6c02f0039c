"""Registry pages: list with masking, forms with Chinese messages, import page, coverage."""

import io

from sqlalchemy import select

from backend.extensions import db
from backend.veterans.models import ImportJob
from tests.factories import create_veteran
from tests.helpers import portal_as, refresh_figures
from tests.veterans.test_import import sheet_bytes


def test_list_masks_and_hides_other_stations(portal_app, world):
    mine = create_veteran(station=world.x1, name="本站老兵")
    create_veteran(station=world.y1, name="外站老兵")
    page = portal_as(portal_app, world.staff_x).get("/veterans/", expect=200).get_data(as_text=True)
    assert "本站老兵" in page and "外站老兵" not in page
    assert mine.id_number_masked in page and mine.id_number not in page and mine.phone not in page


def test_bad_search_number_shows_a_message(portal_app, world):
    page = (
        portal_as(portal_app, world.staff_x)
        .post("/veterans/search", data={"id_number": "123"}, follow_redirects=True)
        .get_data(as_text=True)
    )
    assert "身份证号码应为18位" in page


def test_create_form_shows_chinese_field_errors(portal_app, world):
    client = portal_as(portal_app, world.staff_x)
    page = client.post(
        "/veterans/new",
        data={"name": "张", "id_number": "110105194912310021", "phone": "123", "station_id": world.x1.id},
        expect=422,
    ).get_data(as_text=True)
    assert "校验位不正确" in page and "手机号码应为11位" in page


def test_import_upload_redirects_to_progress(portal_app, world, monkeypatch):
    monkeypatch.setattr("backend.tasks.enqueue", lambda task, *args, **kw: None)
    client = portal_as(portal_app, world.staff_x)
    response = client.post(
        "/veterans/import",
        data={"file": (io.BytesIO(sheet_bytes([])), "名册.xlsx")},
        content_type="multipart/form-data",
        expect=302,
    )
    job = db.session.scalars(select(ImportJob)).one()
    assert response.headers["Location"] == f"/veterans/import/{job.id}"
    assert "正在导入" in client.get(f"/veterans/import/{job.id}", expect=200).get_data(as_text=True)
    partial = client.get(f"/veterans/import/{job.id}", headers={"HX-Request": "true"}, expect=200)
    assert 'hx-trigger="every 1s"' in partial.get_data(as_text=True)


def test_import_rejects_a_non_excel_file(portal_app, world):
    client = portal_as(portal_app, world.staff_x)
    page = client.post(
        "/veterans/import",
        data={"file": (io.BytesIO(b"MZ\x90\x00 not excel"), "名册.xlsx.exe")},
        content_type="multipart/form-data",
        expect=422,
    ).get_data(as_text=True)
    assert ".xlsx" in page


def test_coverage_page(portal_app, world):
    create_veteran(station=world.x1, grid=world.x1_grid, grid_worker="网格员")
    refresh_figures()  # aggregates slice (issue 12): coverage is read from the rollup
    page = portal_as(portal_app, world.supervisor_parent).get("/veterans/coverage", expect=200).get_data(as_text=True)
    assert "青山县" in page and "100.0%" in page


def test_edit_form_never_shows_the_full_id_number_or_phone(portal_app, world):
    veteran = create_veteran(station=world.x1)
    client = portal_as(portal_app, world.staff_x)
    page = client.get(f"/veterans/{veteran.id}/edit", expect=200).get_data(as_text=True)
    assert veteran.id_number not in page and veteran.phone not in page and veteran.id_number_masked in page
    client.post(
        f"/veterans/{veteran.id}/edit",
        data={"name": "新名字", "id_number": "", "phone": "", "status": "active"},
        expect=302,
    )
    from backend.extensions import db

    db.session.refresh(veteran)
    assert veteran.name == "新名字" and veteran.id_number and veteran.phone  # blank kept the stored values


def test_moving_a_veteran_moves_their_registrations_and_trips(world):
    from backend.registration.models import Registration
    from backend.veterans import service
    from tests.factories import create_unit

    veteran = create_veteran(station=world.x1)
    from backend.db import transaction
    from backend.extensions import db

    with transaction():
        db.session.add(
            Registration(
                veteran_id=veteran.id,
                unit_id=veteran.unit_id,
                year=2027,
                status="submitted",
                content={},
                return_reasons={},
            )
        )
    other_station = create_unit(parent=world.x, name="新站")
    service.move_veteran(actor=world.staff_x, veteran_id=veteran.id, station_id=other_station.id)
    reg = db.session.query(Registration).filter_by(veteran_id=veteran.id).one()
    db.session.refresh(reg)
    assert reg.unit_id == other_station.id
