"""Review fixes of issue 17 (archives): viewing a scan is a lookup (own approved request, in custody), hostile numbers
and dates are refused with a message (never a 500), a never-inspected location's schedule follows a new interval,
the archive follows its veteran to a new station, irreversible forms ask first."""

import io
from datetime import timedelta

import pytest
from sqlalchemy import select

from backend.archives import common, custody, files
from backend.archives import log as archive_log
from backend.archives import requests as archive_requests
from backend.archives.models import ArchiveAccessLog, ArchiveLocation
from backend.errors import NotFound, ValidationFailed
from backend.extensions import db
from backend.registration.windows import today_cst
from backend.veterans.service import move_veteran
from tests.archives.helpers import approver, archive, file, location
from tests.factories import create_staff, create_veteran
from tests.files import samples
from tests.helpers import PortalClient
from tests.portal.test_confirmations import is_confirmed, post_forms


def _client(portal_app, staff):
    client = PortalClient(portal_app)
    client.login(staff)
    return client


def _scan(world, arch):
    item = next(iter(custody.items_of(arch.id)))
    return files.add_file(
        actor=world.staff_x, archive_id=arch.id, item_id=item.id, filename="扫描.png", data=samples.png()
    )


def test_viewing_a_scan_needs_ones_own_approved_lookup_of_the_item(world):
    arch = archive(world)
    scan = _scan(world, arch)
    with pytest.raises(files.LookupRequired):  # even right after uploading it
        files.view_file(actor=world.staff_x, file_id=scan.id)
    items = [i.id for i in custody.items_of(arch.id)]
    other_item = file(world, arch, item_ids=items[1:2])
    archive_requests.decide(actor=approver(world), request_id=other_item.id, approve=True)
    pending = file(world, arch)
    someone_elses = file(world, arch, actor=approver(world))
    archive_requests.decide(actor=world.staff_x, request_id=someone_elses.id, approve=True)
    outside = file(world, arch, requester_kind="outside", requester_name="陈干事", requester_unit="人社局")
    archive_requests.decide(actor=approver(world), request_id=outside.id, approve=True)
    with pytest.raises(files.LookupRequired):  # another item, still pending, someone else's, an outside person's
        files.view_file(actor=world.staff_x, file_id=scan.id)
    assert files.viewable_items(world.staff_x, arch) == {items[1]}
    archive_requests.decide(actor=approver(world), request_id=pending.id, approve=True)
    data, _, _ = files.view_file(actor=world.staff_x, file_id=scan.id)
    assert data
    viewed = db.session.scalars(
        select(ArchiveAccessLog).where(ArchiveAccessLog.archive_id == arch.id, ArchiveAccessLog.event == "file_viewed")
    ).one()
    assert viewed.request_id == pending.id and viewed.purpose == "核定工龄"
    archive_requests.record_lookup(actor=world.staff_x, request_id=pending.id)
    with pytest.raises(files.LookupRequired):  # the lookup is done: a new request for a new look
        files.view_file(actor=world.staff_x, file_id=scan.id)


def test_no_scan_is_viewed_after_the_transfer_out(world):
    arch = archive(world)
    scan = _scan(world, arch)
    lookup = file(world, arch)
    archive_requests.decide(actor=approver(world), request_id=lookup.id, approve=True)
    archive_requests.cancel(actor=world.staff_x, request_id=lookup.id)
    custody.transfer_out(
        actor=world.staff_x, archive_id=arch.id, transferred_to="某市局", transferred_on=today_cst(), receipt="R1"
    )
    with pytest.raises(common.ArchiveTransferred):
        files.view_file(actor=world.staff_x, file_id=scan.id)
    assert files.viewable_items(world.staff_x, db.session.get(type(arch), arch.id)) == set()


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("²\t入伍登记表", "序号不正确"),
        ("123456\t入伍登记表", "序号不正确"),
        ("9" * 5000 + "\t入伍登记表", "序号不正确"),
        ("1\t入伍登记表\t" + "9" * 5000, "页数不正确"),
        ("1\t入伍登记表\t١٢", "页数不正确"),
        ("1\t入伍登记表\t12345", "页数不正确"),
    ],
)
def test_hostile_item_numbers_get_a_message(line, message):
    _, errors = custody.parse_items(line)
    assert message in errors["item1"]
    _, errors = custody.parse_items("", [{"title": "甲", "seq": "9" * 5000, "pages": "²"}])
    assert errors["item1"]


def test_hostile_interval_and_dates_and_item_ids(world):
    for days in ("²", "9" * 5000, "١٠٠"):
        with pytest.raises(ValidationFailed):
            location(world, name=f"室{len(days)}", days=days)
    loc = location(world)
    veteran = create_veteran(station=world.x1)
    for received in ("0001-01-01", "1949-12-31"):
        with pytest.raises(ValidationFailed) as refused:
            custody.intake(
                actor=world.staff_x,
                veteran_id=veteran.id,
                received_on=received,
                received_from="原部队",
                location_id=loc.id,
                cabinet="",
                shelf="",
                note="",
                lines="甲",
            )
        assert "接收日期" in refused.value.details["received_on"]
    arch = archive(world)
    with pytest.raises(ValidationFailed):
        file(world, arch, item_ids=["²", "9" * 5000, "-1"])


def test_the_log_search_survives_extreme_dates(world, portal_app):
    archive(world)
    client = _client(portal_app, world.staff_x)
    for query in ("to=9999-12-31", "from=0001-01-01", "from=9999-12-31&to=0001-01-01"):
        assert client.get(f"/archives/log?{query}").status_code == 200


def test_a_new_interval_moves_a_never_inspected_location(world):
    loc = location(world, days=90)
    assert loc.next_due_on == today_cst() + timedelta(days=90)
    custody.update_location(actor=world.staff_x, location_id=loc.id, interval_days="30")
    db.session.expire_all()
    assert db.session.get(ArchiveLocation, loc.id).next_due_on == today_cst() + timedelta(days=30)
    custody.update_location(actor=world.staff_x, location_id=loc.id, interval_days="120")
    db.session.expire_all()
    assert db.session.get(ArchiveLocation, loc.id).next_due_on == today_cst() + timedelta(days=120)


def test_the_archive_follows_its_veteran_to_another_station(world):
    arch = archive(world)
    request = file(world, arch)
    mover = create_staff(unit=world.city, roles=("station_staff", "center_reviewer"))
    move_veteran(actor=mover, veteran_id=arch.veteran_id, station_id=world.y1.id)
    assert common.get_archive(actor=world.staff_y, archive_id=arch.id).station_id == world.y1.id
    assert common.get_request(actor=world.staff_y, request_id=request.id).station_id == world.y1.id
    with pytest.raises(NotFound):
        common.get_archive(actor=world.staff_x, archive_id=arch.id)
    with pytest.raises(NotFound):
        common.get_request(actor=world.staff_x, request_id=request.id)
    # the permanent log keeps the station it was written at; its search follows the archive
    assert {r.station_id for r in db.session.scalars(select(ArchiveAccessLog))} == {world.x1.id}
    rows, _ = archive_log.search_log(actor=world.staff_y)
    assert {r.archive_id for r, _ in rows} == {arch.id}
    assert archive_log.search_log(actor=world.staff_x)[0] == []


def test_irreversible_archive_forms_ask_and_name_the_object(world, portal_app):
    loc = location(world, name="三号档案室")
    newcomer = create_veteran(station=world.x1, name="赵入档")
    arch = archive(world, veteran=create_veteran(station=world.x1, name="钱在库"))
    client = _client(portal_app, world.staff_x)
    intake = client.get(f"/archives/intake?veteran={newcomer.id}", expect=200).text
    forms = {f["attrs"].get("action"): f for f in post_forms(intake) if "/archives/" in f["attrs"].get("action", "")}
    assert list(forms) == ["/archives/intake"]  # the search is a GET by name
    assert (
        is_confirmed(forms["/archives/intake"]) and "赵入档" in forms["/archives/intake"]["attrs"]["data-confirm-body"]
    )
    detail = client.get(f"/archives/{arch.id}", expect=200).text
    for suffix in ("/files", "/items"):
        form = next(f for f in post_forms(detail) if f["attrs"]["action"].endswith(f"/{arch.id}{suffix}"))
        assert is_confirmed(form) and "钱在库" in form["attrs"]["data-confirm-body"]
    inspect = client.get(f"/archives/locations/{loc.id}/inspect", expect=200).text
    form = next(f for f in post_forms(inspect) if f["attrs"]["action"].endswith("/inspect"))
    assert is_confirmed(form) and "三号档案室" in form["attrs"]["data-confirm-body"]
    upload = {"item": str(next(iter(custody.items_of(arch.id))).id), "file": (io.BytesIO(samples.png()), "a.png")}
    client.post(f"/archives/{arch.id}/files", data=upload, content_type="multipart/form-data", expect=302)
