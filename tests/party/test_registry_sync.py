"""Veteran.party_member set by the registry (edit form, new record, Excel import) keeps party_membership in step."""

import pytest
from sqlalchemy import func, select

from backend.audit.models import AuditLog
from backend.errors import NotFound
from backend.extensions import db
from backend.party.models import PartyMembership
from backend.veterans import importer, service
from backend.veterans.models import Veteran
from tests.factories import create_staff, create_veteran, valid_id_number
from tests.party.helpers import member
from tests.veterans.test_import import sheet_bytes


def _audits(action, veteran_id):
    return db.session.scalars(
        select(AuditLog).where(AuditLog.action == action, AuditLog.object_id == str(veteran_id))
    ).all()


def test_edit_sets_flag_creates_full_membership_without_branch(world):
    veteran = create_veteran(station=world.x1)
    service.update_veteran(actor=world.staff_x, veteran_id=veteran.id, party_member=True)
    row = db.session.get(PartyMembership, veteran.id)
    assert row is not None and (row.status, row.branch_id, row.station_id) == ("full", None, world.x1.id)
    (audit,) = _audits("party.membership_set", veteran.id)
    assert audit.details["source"] == "registry" and audit.org_path
    service.update_veteran(actor=world.staff_x, veteran_id=veteran.id, party_member=True)  # no second row or audit
    assert len(_audits("party.membership_set", veteran.id)) == 1


def test_edit_clears_flag_removes_membership_and_keeps_existing_row_on_other_edits(world):
    veteran = create_veteran(station=world.x1)
    member(world, veteran, status="probationary")
    service.update_veteran(actor=world.staff_x, veteran_id=veteran.id, address="新地址")  # flag untouched
    assert db.session.get(PartyMembership, veteran.id).status == "probationary"
    service.update_veteran(actor=world.staff_x, veteran_id=veteran.id, party_member=True)  # existing row kept
    assert db.session.get(PartyMembership, veteran.id).status == "probationary"
    service.update_veteran(actor=world.staff_x, veteran_id=veteran.id, party_member=False)
    assert db.session.get(PartyMembership, veteran.id) is None
    (audit,) = _audits("party.membership_removed", veteran.id)
    assert audit.details == {"status": "probationary", "source": "registry"}


def test_create_with_flag_creates_membership(world):
    veteran = service.create_veteran(
        actor=world.staff_x, station_id=world.x1.id, name="张三", id_number=valid_id_number(), party_member=True
    )
    assert db.session.get(PartyMembership, veteran.id).status == "full"


def test_move_carries_party_rows_and_current_employment(world):
    from backend.employment.models import EmploymentRecord
    from backend.party import evaluations
    from backend.party.models import PartyEvaluation
    from tests.employment.helpers import employed
    from tests.party.helpers import evaluation

    world.objects["veteran"] = veteran = create_veteran(station=world.x1)
    evaluation(world)
    record = employed(world, veteran)
    city_staff = create_staff(unit=world.city, roles=("station_staff",))
    service.move_veteran(actor=city_staff, veteran_id=veteran.id, station_id=world.y1.id)
    assert db.session.get(PartyMembership, veteran.id).station_id == world.y1.id
    row = db.session.scalars(select(PartyEvaluation).where(PartyEvaluation.veteran_id == veteran.id)).one()
    assert row.station_id == world.y1.id and db.session.get(EmploymentRecord, record.id).station_id == world.y1.id
    with pytest.raises(NotFound):  # the old station no longer reaches the moved veteran's document
        evaluations.open_document(actor=world.staff_x, evaluation_id=row.id)


def test_import_creates_memberships_set_based(world, monkeypatch):
    monkeypatch.setattr("backend.tasks.enqueue", lambda *a, **k: None)
    yes, no = valid_id_number(), valid_id_number()
    rows = [
        ["甲", yes, None, None, world.x1.name, None, None, None, "是"],
        ["乙", no, None, None, world.x1.name, None, None, None, "否"],
    ]
    job = importer.start_import(actor=world.staff_x, filename="名册.xlsx", content=sheet_bytes(rows))
    importer.run_import(job.id)
    a = db.session.scalars(select(Veteran).where(Veteran.name == "甲")).one()
    b = db.session.scalars(select(Veteran).where(Veteran.name == "乙")).one()
    row = db.session.get(PartyMembership, a.id)
    assert a.party_member and (row.status, row.branch_id, row.station_id) == ("full", None, world.x1.id)
    assert db.session.get(PartyMembership, b.id) is None
    (audit,) = _audits("party.membership_set", a.id)
    assert audit.details["source"] == "registry" and audit.actor_id == world.staff_x.id
    assert db.session.scalar(select(func.count()).select_from(PartyMembership)) == 1
