"""The permanent log: searched in scope by event and date, and refused UPDATE and DELETE by the database (as the
app role by privileges, and as the owner by the trigger)."""

from datetime import timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DatabaseError

from backend.archives import log as archive_log
from backend.archives.models import ArchiveAccessLog
from backend.errors import NotFound
from backend.extensions import db
from backend.registration.windows import today_cst
from tests.archives.helpers import archive, file, location
from tests.factories import create_veteran


def test_search_is_scoped_and_filtered(world):
    mine = archive(world)
    file(world, mine)
    y_loc = location(world, unit=world.y, actor=world.staff_y, name="绿水档案室")
    theirs = archive(world, veteran=create_veteran(station=world.y1), loc=y_loc, actor=world.staff_y)
    rows, _ = archive_log.search_log(actor=world.staff_x)
    assert {r.archive_id for r, _ in rows} == {mine.id}
    rows, _ = archive_log.search_log(actor=world.supervisor_parent, event="intake")
    assert {r.archive_id for r, _ in rows} == {mine.id, theirs.id}
    rows, _ = archive_log.search_log(actor=world.staff_x, event="requested", date_from=today_cst(), date_to=today_cst())
    assert len(rows) == 1
    rows, _ = archive_log.search_log(actor=world.staff_x, date_to=today_cst() - timedelta(days=1))
    assert rows == []
    with pytest.raises(NotFound):
        archive_log.archive_log(actor=world.staff_y, archive_id=mine.id)


def test_keyset_pages(world):
    arch = archive(world)
    for _ in range(3):
        file(world, arch)
    first, cursor = archive_log.search_log(actor=world.staff_x, limit=2)
    second, end = archive_log.search_log(actor=world.staff_x, limit=2, before=cursor)
    assert len(first) == 2 and len(second) == 2 and end is None
    assert first[0][0].id > first[1][0].id > second[0][0].id


@pytest.mark.parametrize(
    "statement", ["UPDATE archive_access_log SET event = 'approved'", "DELETE FROM archive_access_log"]
)
def test_database_refuses_update_and_delete_even_as_owner(world, statement, as_owner):
    archive(world)
    with pytest.raises(DatabaseError, match="permanent"):
        with as_owner():
            db.session.execute(text(statement))
    assert db.session.scalar(select(ArchiveAccessLog.event)) == "intake"


@pytest.mark.postgres
@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE archive_access_log SET event = 'approved'",
        "DELETE FROM archive_access_log",
        "TRUNCATE archive_access_log",
        "ALTER TABLE archive_access_log DISABLE TRIGGER archive_access_log_no_update",
        "DROP TABLE archive_access_log CASCADE",
    ],
)
def test_app_role_holds_no_privilege_to_change_the_log(world, statement):
    archive(world)
    nested = db.session.begin_nested()
    with pytest.raises(DatabaseError) as caught:
        db.session.execute(text(statement))
    nested.rollback()
    assert caught.value.orig.sqlstate == "42501"  # insufficient privilege
    assert db.session.scalar(select(ArchiveAccessLog.event)) == "intake"
