"""The archives pages: register and detail in scope, intake through the form, the request steps with the
maker–checker refusal as a flash message, the watermarked view sent no-store, the read-only log, the veteran's
section and the workbench card."""

import io
from datetime import timedelta

from sqlalchemy import select

from backend.archives import custody
from backend.archives import requests as archive_requests
from backend.archives.models import Archive, ArchiveRequest
from backend.extensions import db
from backend.registration.windows import today_cst
from tests.archives.helpers import approver, archive, clerk, file, location
from tests.factories import create_veteran
from tests.files import samples
from tests.helpers import PortalClient


def _as(portal_app, staff):
    client = PortalClient(portal_app)
    client.login(staff)
    return client


def test_register_and_detail_in_scope(world, portal_app):
    arch = archive(world)
    page = _as(portal_app, world.staff_x).get("/archives/", expect=200).text
    assert f'data-testid="archive-{arch.id}"' in page and "人事档案" in page
    detail = _as(portal_app, world.staff_x).get(f"/archives/{arch.id}", expect=200).text
    assert "1 条未核对" in detail and "体检表" in detail and "A1柜" in detail
    other = _as(portal_app, world.staff_y)
    assert f'data-testid="archive-{arch.id}"' not in other.get("/archives/", expect=200).text
    other.get(f"/archives/{arch.id}", expect=404)
    other.get(f"/archives/{arch.id}/log", expect=404)
    other.post(f"/archives/{arch.id}/transfer", data={"transferred_to": "x", "receipt": "1"}, expect=404)


def test_intake_through_the_form(world, portal_app):
    loc = location(world)
    veteran = create_veteran(station=world.x1, name="张入档")
    client = _as(portal_app, world.staff_x)
    found = client.get("/archives/intake?q=张入档", expect=200).text  # a name search (no ID numbers here)
    assert f"/archives/intake?veteran={veteran.id}" in found
    assert 'data-testid="intake-form"' in client.get(f"/archives/intake?veteran={veteran.id}", expect=200).text
    data = {
        "veteran": str(veteran.id),
        "received_on": today_cst().isoformat(),
        "received_from": "原部队",
        "location": str(loc.id),
        "cabinet": "B2",
        "title1": "入伍登记表",
        "checked1": "1",
        "lines": "士兵登记表\t3\t否",
    }
    response = client.post("/archives/intake", data=data, expect=302)
    arch = db.session.scalars(select(Archive).where(Archive.veteran_id == veteran.id)).one()
    assert response.headers["Location"].endswith(f"/archives/{arch.id}")
    assert [(i.seq, i.title, i.checked) for i in custody.items_of(arch.id)] == [
        (1, "士兵登记表", False),
        (2, "入伍登记表", True),
    ]


def test_request_steps_and_maker_checker_in_the_portal(world, portal_app):
    arch = archive(world)
    client = _as(portal_app, world.staff_x)
    items = [str(i.id) for i in custody.items_of(arch.id)]
    data = {"kind": "lookup", "requester_kind": "staff", "purpose": "政审", "item": items[:1]}
    client.post(f"/archives/{arch.id}/requests", data=data, expect=302)
    req = db.session.scalars(select(ArchiveRequest).where(ArchiveRequest.archive_id == arch.id)).one()
    client.post(f"/archives/requests/{req.id}/done", expect=302)
    assert "尚未批准" in client.get(f"/archives/{arch.id}").text
    client.post(f"/archives/requests/{req.id}/approve", expect=302)
    assert "另一位审批人" in client.get(f"/archives/{arch.id}").text
    db.session.expire_all()
    assert db.session.get(ArchiveRequest, req.id).state == "pending"
    checker = _as(portal_app, approver(world))
    pending = checker.get("/archives/requests?state=pending", expect=200).text
    assert f'data-testid="request-{req.id}"' in pending and "确认批准" in pending
    checker.post(f"/archives/requests/{req.id}/approve", data={"back": "requests"}, expect=302)
    client.post(f"/archives/requests/{req.id}/done", expect=302)
    db.session.expire_all()
    assert db.session.get(ArchiveRequest, req.id).state == "done"
    log = client.get(f"/archives/{arch.id}/log", expect=200).text
    assert "批准" in log and "查阅" in log and "<form" not in log.split('data-testid="access-log"')[1]


def test_file_view_is_watermarked_and_not_cached(world, portal_app):
    arch = archive(world)
    item = next(iter(custody.items_of(arch.id)))
    client = _as(portal_app, world.staff_x)
    upload = {"item": str(item.id), "file": (io.BytesIO(samples.png(64, 64)), "扫描.png")}
    client.post(f"/archives/{arch.id}/files", data=upload, content_type="multipart/form-data", expect=302)
    detail = client.get(f"/archives/{arch.id}").text
    assert "扫描.png" in detail and 'href="/archives/files/' not in detail  # no own approved lookup yet
    lookup = file(world, arch)
    archive_requests.decide(actor=approver(world), request_id=lookup.id, approve=True)
    detail = client.get(f"/archives/{arch.id}").text
    scan_url = detail.split('href="/archives/files/')[1].split('"')[0]
    response = client.get(f"/archives/files/{scan_url}", expect=200)
    assert response.headers["Cache-Control"].startswith("no-store") and response.mimetype == "image/png"
    _as(portal_app, clerk(world)).get(f"/archives/files/{scan_url}", expect=403)
    _as(portal_app, world.staff_y).get(f"/archives/files/{scan_url}", expect=404)


def test_transfer_and_location_pages(world, portal_app):
    arch = archive(world)
    client = _as(portal_app, world.staff_x)
    form = {"transferred_to": "某市退役军人事务局", "transferred_on": today_cst().isoformat(), "receipt": "HZ-9"}
    client.post(f"/archives/{arch.id}/transfer", data=form, expect=302)
    page = client.get(f"/archives/{arch.id}").text
    assert "已转出" in page and "HZ-9" in page and 'data-testid="request-form"' not in page
    loc = db.session.get(custody.ArchiveLocation, arch.location_id)
    loc.next_due_on = today_cst() - timedelta(days=3)
    db.session.commit()
    assert 'data-testid="overdue"' in client.get("/archives/locations", expect=200).text
    inspected = {"inspected_on": today_cst().isoformat()} | {
        f"check_{k}": "ok" for k in ("fire", "damp", "pests", "locks", "completeness")
    }
    client.post(f"/archives/locations/{loc.id}/inspect", data=inspected, expect=302)
    db.session.expire_all()
    assert db.session.get(custody.ArchiveLocation, loc.id).next_due_on == today_cst() + timedelta(days=90)


def test_veteran_section_and_workbench_card(world, portal_app):
    arch = archive(world)
    file(world, arch, actor=clerk(world))
    client = _as(portal_app, world.staff_x)
    page = client.get(f"/veterans/{arch.veteran_id}", expect=200).text
    assert 'data-testid="veteran-archive"' in page and "在库保管" in page and "A1柜" in page
    loc = db.session.get(custody.ArchiveLocation, arch.location_id)
    loc.next_due_on = today_cst() - timedelta(days=1)
    db.session.commit()
    home = client.get("/", expect=200).text
    assert 'data-testid="todo-archive_inspections_overdue-value">1<' in home
    assert 'data-testid="todo-archive_requests_pending-value">1<' in home
    assert archive_requests.pending_count(world.staff_x) == 1
