"""Authorization matrix cells of the archives pages (issue 17, Art. 8). An archive of veteran A (station X1) is made on
first use, with a location at county X, one scan, a pending request filed by a station clerk (so staff_x may decide
it) and an approved one (so the lookup form shows).
archives.view: staff_x, staff_y, supervisor_parent (lists answer within each scope); archives.request / .manage /
.approve with X1 in scope: only staff_x (staff_y: 404, the supervisor: 403)."""

import io

from tests.authz.cells import Cell

VIEWERS = ("staff_x", "staff_y", "supervisor_parent")  # archives.view: scoped lists
VIEWERS_OF_X = ("staff_x", "supervisor_parent")  # archives.view with X1 in the subtree
MANAGERS = ("staff_x", "staff_y")  # archives.manage, own unit
HANDLERS_OF_X = ("staff_x",)  # archives.request / .manage / .approve with X1 in the subtree


def _location(w):
    if "archive_location" not in w.objects:
        from backend.archives import custody

        w.objects["archive_location"] = custody.create_location(
            actor=w.staff_x, unit_id=w.x.id, name="矩阵档案室", interval_days=90
        )
    return w.objects["archive_location"]


def _archive(w):
    if "archive" not in w.objects:
        from backend.archives import custody, files
        from backend.archives import requests as archive_requests
        from tests.factories import create_staff
        from tests.files import samples

        archive = custody.intake(
            actor=w.staff_x,
            veteran_id=w.veteran.id,
            received_on="2026-01-05",
            received_from="原部队",
            location_id=_location(w).id,
            cabinet="A1",
            shelf="1",
            note="",
            lines="1\t入伍登记表\t2\t是\n2\t体检表\t1\t否",
        )
        items = list(custody.items_of(archive.id))
        w.objects["archive"] = archive
        w.objects["archive_file"] = files.add_file(
            actor=w.staff_x, archive_id=archive.id, item_id=items[0].id, filename="扫描.png", data=samples.png()
        )
        clerk = create_staff(unit=w.x1, roles=("station_staff",))
        w.objects["archive_request"] = archive_requests.file_request(
            actor=clerk,
            archive_id=archive.id,
            kind="copy",
            requester_kind="outside",
            requester_name="陈干事",
            requester_unit="人社局",
            purpose="核定工龄",
            item_ids=[items[0].id],
        )
        approved = archive_requests.file_request(  # an approved one too, so the lookup form is on the page
            actor=clerk,
            archive_id=archive.id,
            kind="lookup",
            requester_kind="staff",
            purpose="政审",
            item_ids=[items[1].id],
        )
        archive_requests.decide(actor=w.staff_x, request_id=approved.id, approve=True)
        own = archive_requests.file_request(  # staff_x's own approved lookup: viewing the scan is that lookup
            actor=w.staff_x,
            archive_id=archive.id,
            kind="lookup",
            requester_kind="staff",
            purpose="核对扫描件",
            item_ids=[items[0].id],
        )
        checker = create_staff(unit=w.x, roles=("center_reviewer",))
        archive_requests.decide(actor=checker, request_id=own.id, approve=True)
    return w.objects["archive"]


def _newcomer(w):
    """A veteran of X1 without an archive (the intake form)."""
    if "archive_newcomer" not in w.objects:
        from tests.factories import create_veteran

        _location(w)
        w.objects["archive_newcomer"] = create_veteran(station=w.x1, grid=w.x1_grid)
    return w.objects["archive_newcomer"]


def _url(suffix=""):
    return lambda w: f"/archives/{_archive(w).id}{suffix}"


def _request_url(suffix):
    return lambda w: f"/archives/requests/{_archive(w) and w.objects['archive_request'].id}{suffix}"


def _location_url(suffix=""):
    return lambda w: f"/archives/locations/{_location(w).id}{suffix}"


def _intake_data(w):
    return {
        "veteran": str(_newcomer(w).id),
        "received_on": "2026-01-05",
        "received_from": "原部队",
        "location": str(_location(w).id),
        "lines": "档案材料",
    }


def _upload(w):
    from backend.archives import custody
    from tests.files import samples

    item = next(iter(custody.items_of(_archive(w).id)))
    return {"item": str(item.id), "file": (io.BytesIO(samples.png()), "a.png")}


def _item_ids(w):
    from backend.archives import custody

    return {
        "kind": "lookup",
        "requester_kind": "staff",
        "purpose": "矩阵",
        "item": [str(i.id) for i in custody.items_of(_archive(w).id)],
    }


ALL_OK = {f"check_{k}": "ok" for k in ("fire", "damp", "pests", "locks", "completeness")}

ARCHIVES_CELLS = {
    ("portal", "archives.index", "GET"): Cell("GET", lambda w: _archive(w) and "/archives/", VIEWERS),
    ("portal", "archives.intake", "GET"): Cell(
        "GET", lambda w: f"/archives/intake?veteran={_newcomer(w).id}", HANDLERS_OF_X, notes="staff_y: veteran is 404"
    ),
    ("portal", "archives.intake", "POST"): Cell(
        "POST", "/archives/intake", HANDLERS_OF_X, data=_intake_data, notes="staff_y: the veteran is out of scope"
    ),
    ("portal", "archives.detail", "GET"): Cell("GET", _url(), VIEWERS_OF_X),
    ("portal", "archives.add_items", "POST"): Cell("POST", _url("/items"), HANDLERS_OF_X, data={"lines": "补充材料"}),
    ("portal", "archives.upload", "POST"): Cell("POST", _url("/files"), HANDLERS_OF_X, data=_upload, multipart=True),
    ("portal", "archives.view_file", "GET"): Cell(
        "GET",
        lambda w: _archive(w) and f"/archives/files/{w.objects['archive_file'].id}",
        HANDLERS_OF_X,
        notes="archives.manage and one's own approved lookup of the item: the supervisor 403",
    ),
    ("portal", "archives.transfer", "POST"): Cell(
        "POST", _url("/transfer"), HANDLERS_OF_X, data={"transferred_to": "矩阵"}, notes="no receipt: a flash message"
    ),
    ("portal", "archives.file_request", "POST"): Cell("POST", _url("/requests"), HANDLERS_OF_X, data=_item_ids),
    ("portal", "archives.approve", "POST"): Cell("POST", _request_url("/approve"), HANDLERS_OF_X),
    ("portal", "archives.reject", "POST"): Cell(
        "POST", _request_url("/reject"), HANDLERS_OF_X, data={"note": "矩阵"}, notes="already decided: a flash message"
    ),
    ("portal", "archives.cancel", "POST"): Cell("POST", _request_url("/cancel"), HANDLERS_OF_X),
    ("portal", "archives.record_lookup", "POST"): Cell(
        "POST", _request_url("/done"), HANDLERS_OF_X, notes="not approved or no copy text: a flash message"
    ),
    ("portal", "archives.requests", "GET"): Cell(
        "GET", lambda w: _archive(w) and "/archives/requests?state=pending", VIEWERS, notes="staff_y: empty"
    ),
    ("portal", "archives.archive_log_page", "GET"): Cell("GET", _url("/log"), VIEWERS_OF_X),
    ("portal", "archives.log_search", "GET"): Cell("GET", lambda w: _archive(w) and "/archives/log", VIEWERS),
    ("portal", "archives.locations", "GET"): Cell("GET", lambda w: _location(w) and "/archives/locations", VIEWERS),
    ("portal", "archives.location_new", "POST"): Cell(
        "POST", "/archives/locations/new", MANAGERS, data={"name": "矩阵新档案室", "interval_days": "90"}
    ),
    ("portal", "archives.location", "GET"): Cell("GET", _location_url(), VIEWERS_OF_X),
    ("portal", "archives.location_edit", "POST"): Cell(
        "POST", _location_url("/edit"), HANDLERS_OF_X, data={"interval_days": "60", "active": "1"}
    ),
    ("portal", "archives.inspect", "GET"): Cell("GET", _location_url("/inspect"), HANDLERS_OF_X),
    ("portal", "archives.inspect", "POST"): Cell(
        "POST", _location_url("/inspect"), HANDLERS_OF_X, data={"inspected_on": "2026-01-05", **ALL_OK}
    ),
}
