"""Shared helpers of the archives tests: a location at county X, an archive of a veteran at X1, a second approver."""

from backend.archives import custody
from backend.archives import requests as archive_requests
from tests.factories import create_staff, create_veteran

LINES = "1\t入伍登记表\t2\t是\n2\t士兵登记表\t3\t是\n3\t体检表\t1\t否\t缺页"


def location(world, unit=None, actor=None, name="一号档案室", days=90):
    return custody.create_location(
        actor=actor or world.staff_x, unit_id=(unit or world.x).id, name=name, interval_days=days
    )


def archive(world, veteran=None, loc=None, actor=None, lines=LINES):
    veteran = veteran or create_veteran(station=world.x1, grid=world.x1_grid)
    loc = loc or location(world, name=f"档案室{veteran.id}")
    return custody.intake(
        actor=actor or world.staff_x,
        veteran_id=veteran.id,
        received_on="2026-01-05",
        received_from="原部队政治工作部",
        location_id=loc.id,
        cabinet="A1",
        shelf="2",
        note="",
        lines=lines,
    )


def approver(world):
    """Another center reviewer of county X (staff_x files, this one decides)."""
    return create_staff(unit=world.x, roles=("center_reviewer",))


def clerk(world):
    """Station staff at X1: may file requests, not approve them."""
    return create_staff(unit=world.x1, roles=("station_staff",))


def file(world, arch, actor=None, kind="lookup", **extra):
    items = [i.id for i in custody.items_of(arch.id)]
    values = {"requester_kind": "staff", "purpose": "核定工龄", "item_ids": items[:2]} | extra
    return archive_requests.file_request(actor=actor or world.staff_x, archive_id=arch.id, kind=kind, **values)
