"""Review item 11 (issue 20): the auditor's views read through indexes that fit their order, and the volumes' bound
keeps the busiest staff members."""

from sqlalchemy import inspect

from backend.audit import oversight
from backend.audit.service import record_now
from backend.extensions import db
from backend.registration.windows import today_cst
from tests.factories import create_staff


def test_indexes_for_one_persons_rows_and_the_refusals_newest_first(app):
    found = {tuple(i["column_names"]) for i in inspect(db.engine).get_indexes("audit_log")}
    assert ("actor_type", "actor_id", "id") in found
    assert ("result", "id") in found


def test_the_volumes_bound_keeps_the_busiest(world, monkeypatch):
    quiet, busy = create_staff(unit=world.x1), create_staff(unit=world.x1)
    record_now(actor=quiet, action="veterans.reveal", object_type="veteran", object_id=1)
    for _ in range(3):
        record_now(actor=busy, action="veterans.reveal", object_type="veteran", object_id=1)
    record_now(actor=busy, action="export.requested", object_type="export_job", object_id=1)
    monkeypatch.setattr(oversight, "MAX_GROUPS", 1)
    today = today_cst()
    rows, _, _ = oversight.volumes(actor=world.auditor, first=today, last=today)
    assert [(v.staff_id, v.reveals, v.exports) for v in rows] == [(busy.id, 3, 1)]
