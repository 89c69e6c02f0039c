"""The visit pages (issue 16): creating a campaign, the campaign's progress and bulk assignment, recording a visit
(confirmed), photos with the upload checks (a bad file refused, nothing stored) and audited downloads."""

import io
from datetime import UTC, datetime
from pathlib import Path

import pytest
from freezegun import freeze_time
from sqlalchemy import select

from backend.audit.models import AuditLog
from backend.extensions import db
from backend.visits.models import Visit, VisitCampaign, VisitPhoto
from tests.files import samples
from tests.helpers import portal_as
from tests.visits.helpers import campaign_of, populate

NOW = datetime(2027, 2, 1, 2, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen():
    with freeze_time(NOW):
        yield


@pytest.fixture
def scanner(portal_app, monkeypatch):
    found = samples.EicarScanner()
    monkeypatch.setitem(portal_app.extensions, "upload_scanner", found)
    return found


def _first_visit(world):
    populate(world)
    campaign = campaign_of(world)
    return campaign, db.session.scalars(
        select(Visit).where(Visit.campaign_id == campaign.id, Visit.station_id == world.x1.id).order_by(Visit.id)
    ).first()


def test_creating_a_campaign_from_the_portal(portal_app, world):
    populate(world)
    client = portal_as(portal_app, world.staff_x)
    assert "新建走访活动" in client.get("/visits/", expect=200).text
    form = {
        "name": "八一慰问",
        "unit": world.x.id,
        "starts_on": "2027-07-20",
        "ends_on": "2027-08-05",
        "party_member": "1",
    }
    response = client.post("/visits/new", data=form, follow_redirects=True)
    assert "已创建走访活动「八一慰问」，共 1 名走访对象" in response.text and "张甲" in response.text
    bad = client.post("/visits/new", data={**form, "ends_on": "2027-07-01"}, expect=422).text
    assert "结束日期应在开始日期之后" in bad and 'aria-invalid="true"' in bad
    client.post("/visits/new", data={**form, "unit": world.y1.id}, expect=404)


def test_the_supervisor_sees_progress_but_cannot_create_or_record(portal_app, world):
    campaign, visit = _first_visit(world)
    client = portal_as(portal_app, world.supervisor_parent)
    page = client.get("/visits/", expect=200).text
    assert "春节走访" in page and "新建走访活动" not in page
    assert "合计" in client.get(f"/visits/{campaign.id}", expect=200).text
    assert 'data-testid="record-form"' not in client.get(f"/visits/visit/{visit.id}", expect=200).text
    client.get("/visits/new", expect=403)


def test_staff_of_another_county_get_not_found_pages(portal_app, world):
    campaign, visit = _first_visit(world)
    client = portal_as(portal_app, world.staff_y)
    client.get(f"/visits/{campaign.id}", expect=404)
    client.get(f"/visits/visit/{visit.id}", expect=404)
    client.post(f"/visits/visit/{visit.id}/record", data={"visited_on": "2027-01-30"}, expect=404)


def test_bulk_assign_and_record_through_the_portal(portal_app, world):
    campaign, visit = _first_visit(world)
    client = portal_as(portal_app, world.staff_x)
    page = client.get(f"/visits/{campaign.id}?station={world.x1.id}", expect=200).text
    assert 'name="visit"' in page and world.target.full_name in page
    data = {"station": world.x1.id, "staff": world.target.id, "scope": "unassigned"}
    assert "已分配 3 个走访任务" in client.post(f"/visits/{campaign.id}/assign", data=data, follow_redirects=True).text
    page = client.get(f"/visits/visit/{visit.id}").text
    assert 'data-confirm-title="确认登记走访"' in page and 'data-confirm-title="确认标记未走访"' in page
    form = {
        "visited_on": "2027-01-30",
        "notes": "一切安好",
        "amount": "300",
        "funding_source": "",
        "budget_year": "2027",
    }
    refused = client.post(f"/visits/visit/{visit.id}/record", data=form, expect=422).text
    assert "请选择经费来源" in refused
    form["funding_source"] = "central"
    page = client.post(f"/visits/visit/{visit.id}/record", data=form, follow_redirects=True).text
    assert "走访已登记" in page and "300.00 元" in page and "中央资金" in page and "一切安好" in page
    again = client.post(f"/visits/visit/{visit.id}/record", data=form, follow_redirects=True).text
    assert "该走访已登记" in again


def test_a_photo_is_re_encoded_and_its_download_audited(portal_app, world, scanner):
    _, visit = _first_visit(world)
    client = portal_as(portal_app, world.target)
    data = {"photo": (io.BytesIO(samples.png()), "走访合影.png")}
    page = client.post(f"/visits/visit/{visit.id}/photos", data=data, follow_redirects=True).text
    assert "照片已上传" in page and "走访合影.png" in page
    photo = db.session.scalars(select(VisitPhoto)).one()
    response = client.get(f"/visits/photos/{photo.id}", expect=200)
    assert response.data.startswith(b"\x89PNG") and "attachment;" in response.headers["Content-Disposition"]
    assert db.session.scalars(select(AuditLog).where(AuditLog.action == "visits.photo_download")).one()
    portal_as(portal_app, world.staff_y).get(f"/visits/photos/{photo.id}", expect=404)


@pytest.mark.parametrize(
    "content,name",
    [
        (b"<html><script>alert(1)</script></html>", "照片.png"),
        (samples.EICAR, "eicar.jpg"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "broken.png"),
        (b"", "empty.png"),
    ],
)
def test_a_bad_file_is_refused_and_nothing_is_stored(portal_app, world, scanner, content, name):
    _, visit = _first_visit(world)
    folder = Path(portal_app.config["UPLOAD_DIR"])
    before = set(folder.glob("*")) if folder.exists() else set()
    client = portal_as(portal_app, world.target)
    page = client.post(
        f"/visits/visit/{visit.id}/photos", data={"photo": (io.BytesIO(content), name)}, follow_redirects=True
    ).text
    assert "照片已上传" not in page and ("仅支持" in page or "安全检查" in page or "损坏" in page)
    assert db.session.scalar(select(VisitPhoto.id)) is None
    assert (set(folder.glob("*")) if folder.exists() else set()) == before


def test_campaign_rows_are_never_written_for_another_county(portal_app, world):
    populate(world)
    client = portal_as(portal_app, world.staff_y)
    form = {"name": "春节走访", "unit": world.y.id, "starts_on": "2027-01-20", "ends_on": "2027-02-10"}
    client.post("/visits/new", data=form, expect=302)
    campaign = db.session.scalars(select(VisitCampaign)).one()
    assert {v.station_id for v in db.session.scalars(select(Visit))} == {world.y1.id} and campaign.total == 1
