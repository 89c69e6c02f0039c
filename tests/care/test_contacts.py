"""Contacts and their scope (issue 16, C1): another station's plans and contacts are not found, notes are sealed at
rest and their reading is audited, history is newest first with a keyset "更多"."""

from datetime import UTC, datetime

import pytest
from freezegun import freeze_time
from sqlalchemy import select, text

from backend.audit.models import AuditLog
from backend.care import contacts, plans
from backend.care.models import ContactRecord
from backend.errors import PermissionDenied
from backend.extensions import db
from backend.veterans.service import VeteranNotFound
from tests.factories import create_veteran

NOW = datetime(2026, 6, 1, 4, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen():
    with freeze_time(NOW):
        yield


def _contact(world, veteran, **kw):
    fields = {"contact_on": "2026-05-30", "way": "phone", "notes": {"thought": "思想稳定", "life": "住房困难"}}
    return contacts.record_contact(actor=world.staff_x, veteran_id=veteran.id, **{**fields, **kw})


def test_notes_are_sealed_and_reading_them_is_audited(world):
    veteran = create_veteran(station=world.x1)
    record = _contact(world, veteran, flags=["family_difficulty", "bogus"])
    raw = db.session.execute(text("SELECT notes_sealed FROM care_contact WHERE id = :i"), {"i": record.id}).scalar()
    assert "思想稳定" not in raw and record.flags == ["family_difficulty"]
    _, notes = contacts.read_notes(actor=world.target, contact_id=record.id)
    assert notes == [("思想情况", "思想稳定"), ("生活情况", "住房困难")]
    actions = db.session.scalars(select(AuditLog.action).where(AuditLog.object_id == str(record.id))).all()
    assert "care.contact_record" in actions and "care.notes_read" in actions


def test_another_station_sees_neither_plans_nor_contacts(world):
    veteran = create_veteran(station=world.x1)
    record = _contact(world, veteran)
    with pytest.raises(contacts.ContactNotFound):
        contacts.read_notes(actor=world.staff_y, contact_id=record.id)
    with pytest.raises(contacts.ContactNotFound):
        contacts.get_contact(actor=world.staff_y, contact_id="abc")
    with pytest.raises(VeteranNotFound):
        contacts.history(actor=world.staff_y, veteran_id=veteran.id)
    with pytest.raises(VeteranNotFound):
        contacts.record_contact(actor=world.staff_y, veteran_id=veteran.id, contact_on="2026-05-30", way="phone")
    with pytest.raises(VeteranNotFound):
        plans.update_plan(actor=world.staff_y, veteran_id=veteran.id, attention=True, assignee="")


def test_supervisor_reads_but_cannot_record(world):
    veteran = create_veteran(station=world.x1)
    with pytest.raises(PermissionDenied):
        contacts.record_contact(
            actor=world.supervisor_parent, veteran_id=veteran.id, contact_on="2026-05-30", way="phone"
        )
    assert contacts.history(actor=world.supervisor_parent, veteran_id=veteran.id).rows == []


def test_history_newest_first_with_keyset(world):
    veteran = create_veteran(station=world.x1)
    for day in ("2026-05-01", "2026-05-20", "2026-05-10", "2026-05-20"):
        _contact(world, veteran, contact_on=day)
    first = contacts.history(actor=world.staff_x, veteran_id=veteran.id, size=3)
    assert [str(r.contact_on) for r in first.rows] == ["2026-05-20", "2026-05-20", "2026-05-10"]
    assert first.rows[0].id > first.rows[1].id and first.more
    rest = contacts.history(actor=world.staff_x, veteran_id=veteran.id, before=first.more, size=3)
    assert [str(r.contact_on) for r in rest.rows] == ["2026-05-01"] and rest.more is None


def test_assignee_is_staff_of_the_station_or_the_grid_worker(world):
    from backend.errors import ValidationFailed

    veteran = create_veteran(station=world.x1, grid=world.x1_grid, grid_worker="李网格")
    plan = plans.update_plan(actor=world.staff_x, veteran_id=veteran.id, attention=False, assignee="grid")
    assert plan.assignee_grid_worker == "李网格"
    plan = plans.update_plan(
        actor=world.staff_x, veteran_id=veteran.id, attention=False, assignee=f"staff:{world.target.id}"
    )
    assert plan.assignee_staff_id == world.target.id and plan.assignee_grid_worker is None
    with pytest.raises(ValidationFailed):  # staff_y works at another county
        plans.update_plan(
            actor=world.staff_x, veteran_id=veteran.id, attention=False, assignee=f"staff:{world.staff_y.id}"
        )
    assert db.session.scalar(select(ContactRecord.id).limit(1)) is None
