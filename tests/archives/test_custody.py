"""Custody: locations in scope, intake with the item list (logged, onboarding step done), transfer out."""

from datetime import date

import pytest
from sqlalchemy import func, select

from backend.archives import common, custody
from backend.archives.models import Archive, ArchiveAccessLog, ArchiveItem
from backend.audit.models import AuditLog
from backend.errors import NotFound, ValidationFailed
from backend.extensions import db
from backend.orgs.scope import OrgUnitNotFound
from tests.archives.helpers import archive, file, location
from tests.factories import create_veteran


def _log(archive_id):
    return db.session.scalars(
        select(ArchiveAccessLog.event).where(ArchiveAccessLog.archive_id == archive_id).order_by(ArchiveAccessLog.id)
    ).all()


def test_location_in_scope_only(world):
    loc = location(world)
    assert loc.next_due_on > date.today() and loc.interval_days == 90
    with pytest.raises(OrgUnitNotFound):
        location(world, unit=world.y)
    with pytest.raises(ValidationFailed):
        location(world, name="一号档案室")  # same name at the same unit
    with pytest.raises(ValidationFailed):
        location(world, name="二号", days=3)


def test_intake_records_items_log_and_audit(world):
    arch = archive(world)
    items = list(custody.items_of(arch.id))
    assert [(i.seq, i.title, i.pages, i.checked) for i in items] == [
        (1, "入伍登记表", 2, True),
        (2, "士兵登记表", 3, True),
        (3, "体检表", 1, False),
    ]
    assert items[2].note == "缺页"
    assert arch.state == "in_custody" and arch.cabinet == "A1" and arch.received_by_id == world.staff_x.id
    assert _log(arch.id) == ["intake"]
    assert db.session.scalar(select(func.count()).where(AuditLog.action == "archives.intake")) == 1


def test_intake_from_form_rows_and_lines_continue_numbers():
    items, errors = custody.parse_items("甲材料\n乙材料 | 5", [{"title": "丙", "checked": True, "seq": ""}])
    assert not errors
    assert [(i["seq"], i["title"], i["pages"]) for i in items] == [
        (1, "甲材料", None),
        (2, "乙材料", 5),
        (3, "丙", None),
    ]
    _, errors = custody.parse_items("1\t甲\n1\t乙")
    assert errors


def test_intake_refuses_twice_out_of_scope_and_foreign_location(world):
    veteran = create_veteran(station=world.x1)
    loc = location(world)
    arch = archive(world, veteran=veteran, loc=loc)
    with pytest.raises(common.ArchiveExists):
        archive(world, veteran=veteran, loc=loc)
    theirs = create_veteran(station=world.y1)
    with pytest.raises(NotFound):
        archive(world, veteran=theirs)  # staff_x cannot see Y's veteran
    y_loc = location(world, unit=world.y, actor=world.staff_y, name="绿水档案室")
    with pytest.raises(NotFound):
        archive(world, veteran=create_veteran(station=world.x1), loc=y_loc)
    with pytest.raises(NotFound):
        common.get_archive(actor=world.staff_y, archive_id=arch.id)
    with pytest.raises(ValidationFailed):
        archive(world, loc=loc, lines="")


def test_intake_completes_the_onboarding_step(world, monkeypatch):
    calls = []
    monkeypatch.setattr("backend.onboarding.links.step_done_elsewhere", lambda **kw: calls.append(kw))
    arch = archive(world)
    assert calls and calls[0]["step"] == "archive_intake" and calls[0]["veteran_id"] == arch.veteran_id


def test_transfer_out_ends_requests_and_uploads(world):
    arch = archive(world)
    with pytest.raises(ValidationFailed):
        custody.transfer_out(actor=world.staff_x, archive_id=arch.id, transferred_to="", transferred_on="", receipt="")
    done = custody.transfer_out(
        actor=world.staff_x,
        archive_id=arch.id,
        transferred_to="某市退役军人事务局",
        transferred_on="2026-02-01",
        receipt="HZ-001",
    )
    assert done.state == "transferred_out" and done.transfer_receipt == "HZ-001"
    assert _log(arch.id) == ["intake", "transferred_out"]
    assert db.session.scalar(select(func.count()).where(AuditLog.action == "archives.transferred_out")) == 1
    with pytest.raises(common.ArchiveTransferred):
        file(world, arch)
    with pytest.raises(common.ArchiveTransferred):
        custody.add_items(actor=world.staff_x, archive_id=arch.id, lines="补充")
    with pytest.raises(common.ArchiveTransferred):
        custody.transfer_out(
            actor=world.staff_x, archive_id=arch.id, transferred_to="x", transferred_on="2026-02-01", receipt="y"
        )


def test_transfer_refused_while_a_request_is_open(world):
    arch = archive(world)
    file(world, arch)
    with pytest.raises(common.OpenRequests):
        custody.transfer_out(
            actor=world.staff_x, archive_id=arch.id, transferred_to="x", transferred_on="2026-02-01", receipt="y"
        )
    assert db.session.get(Archive, arch.id).state == "in_custody"


def test_register_is_scoped_and_filtered(world):
    mine = archive(world)
    y_loc = location(world, unit=world.y, actor=world.staff_y, name="绿水档案室")
    theirs = archive(world, veteran=create_veteran(station=world.y1), loc=y_loc, actor=world.staff_y)
    rows, _ = custody.list_archives(actor=world.staff_x)
    assert {a.id for a, _ in rows} == {mine.id}
    rows, _ = custody.list_archives(actor=world.supervisor_parent)
    assert {a.id for a, _ in rows} == {mine.id, theirs.id}
    rows, _ = custody.list_archives(actor=world.supervisor_parent, state="transferred_out")
    assert rows == []
    assert db.session.scalar(select(func.count()).select_from(ArchiveItem)) == 6
