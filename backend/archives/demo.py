"""Demo data of archives (issue 17): a custody location per demo center (one overdue for inspection), a few archives
of 青山镇 veterans with their item lists, the permanent log's intake rows, and one lookup request awaiting approval."""

from datetime import timedelta

from sqlalchemy import select

from backend.archives.common import append_log
from backend.archives.models import Archive, ArchiveInspection, ArchiveItem, ArchiveLocation, ArchiveRequest
from backend.extensions import db
from backend.registration.windows import today_cst
from backend.staff.models import Staff
from backend.veterans.models import Veteran

CENTERS = ("青山县", "绿水区")
ITEMS = (
    ("入伍登记表", 2, True),
    ("士兵登记表", 3, True),
    ("退出现役登记表", 2, True),
    ("立功受奖材料", 4, True),
    ("体检表", 1, False),
)


def load(units):
    """Called with {unit name: unit} inside the demo transaction."""
    today = today_cst()
    locations = {}
    for n, name in enumerate(CENTERS):
        unit = units.get(name)
        if unit is None:
            continue
        last = today - timedelta(days=120 if n == 0 else 30)  # the first center's room is overdue
        location = ArchiveLocation(
            unit_id=unit.id,
            name="一号档案室",
            interval_days=90,
            last_inspected_on=last,
            next_due_on=last + timedelta(90),
        )
        db.session.add(location)
        locations[name] = location
    db.session.flush()
    reviewer = db.session.scalars(select(Staff).where(Staff.username == "reviewer")).first()
    clerk = db.session.scalars(select(Staff).where(Staff.username == "station")).first()
    station = units.get("青山镇退役军人服务站")
    if reviewer is None or station is None or "青山县" not in locations:
        return
    location = locations["青山县"]
    db.session.add(
        ArchiveInspection(
            location_id=location.id,
            inspected_on=location.last_inspected_on,
            inspector_id=reviewer.id,
            checklist={"fire": "ok", "damp": "problem", "pests": "ok", "locks": "ok", "completeness": "ok"},
            findings="北墙返潮",
            fixes="加装除湿机",
            fixed_on=location.last_inspected_on + timedelta(days=3),
        )
    )
    veterans = db.session.scalars(
        select(Veteran).where(Veteran.station_id == station.id).order_by(Veteran.id).offset(1).limit(3)
    ).all()
    archives = []
    for n, veteran in enumerate(veterans):
        archive = Archive(
            veteran_id=veteran.id,
            station_id=veteran.station_id,
            received_on=today - timedelta(days=200 - n * 40),
            received_from="原部队政治工作部",
            received_by_id=reviewer.id,
            location_id=location.id,
            cabinet=f"A{n + 1}",
            shelf="2",
        )
        db.session.add(archive)
        db.session.flush()
        items = [
            ArchiveItem(archive_id=archive.id, seq=seq, title=title, pages=pages, checked=checked or n != 0)
            for seq, (title, pages, checked) in enumerate(ITEMS, 1)
        ]
        db.session.add_all(items)
        db.session.flush()
        append_log(archive, "intake", actor=reviewer, items=[i.title for i in items], unchecked=int(n == 0))
        archives.append((archive, items))
    if clerk is not None and archives:
        archive, items = archives[0]
        request = ArchiveRequest(
            archive_id=archive.id,
            station_id=archive.station_id,
            kind="lookup",
            requester_kind="outside",
            requester_name="陈干事",
            requester_unit="秦川市人力资源和社会保障局",
            purpose="核定工龄",
            item_ids=[items[1].id, items[2].id],
            requested_by_id=clerk.id,
        )
        db.session.add(request)
        db.session.flush()
        append_log(archive, "requested", actor=clerk, request=request, items=[items[1].title, items[2].title])
