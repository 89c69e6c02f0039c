"""Safety inspections: the checklist, the schedule moving on, overdue first, scope."""

from datetime import timedelta

import pytest

from backend.archives import inspections
from backend.errors import NotFound, ValidationFailed
from backend.extensions import db
from backend.registration.windows import today_cst
from tests.archives.helpers import location

ALL_OK = dict.fromkeys(("fire", "damp", "pests", "locks", "completeness"), "ok")


def test_recording_moves_the_schedule(world):
    loc = location(world, days=30)
    day = today_cst() - timedelta(days=2)
    inspection = inspections.record_inspection(
        actor=world.staff_x,
        location_id=loc.id,
        inspected_on=day.isoformat(),
        checklist=ALL_OK | {"damp": "problem"},
        findings="墙角返潮",
        fixes="除湿",
        fixed_on=today_cst().isoformat(),
    )
    assert inspection.checklist["damp"] == "problem"
    assert loc.last_inspected_on == day and loc.next_due_on == day + timedelta(days=30)
    older = today_cst() - timedelta(days=10)
    inspections.record_inspection(actor=world.staff_x, location_id=loc.id, inspected_on=older, checklist=ALL_OK)
    assert loc.last_inspected_on == day  # an older record does not move the schedule back


def test_checklist_rules(world):
    loc = location(world)
    with pytest.raises(ValidationFailed) as caught:
        inspections.record_inspection(
            actor=world.staff_x, location_id=loc.id, inspected_on="", checklist={"fire": "problem"}
        )
    assert {"inspected_on", "check_damp", "findings"} <= set(caught.value.details)
    with pytest.raises(ValidationFailed):
        future = (today_cst() + timedelta(days=1)).isoformat()
        inspections.record_inspection(actor=world.staff_x, location_id=loc.id, inspected_on=future, checklist=ALL_OK)


def test_overdue_first_and_counted_in_scope(world):
    fresh = location(world, name="新档案室")
    late = location(world, name="老档案室")
    late.next_due_on = today_cst() - timedelta(days=5)
    db.session.commit()
    rows = inspections.list_locations(actor=world.staff_x)
    assert [(loc.id, overdue) for loc, overdue in rows] == [(late.id, True), (fresh.id, False)]
    assert inspections.overdue_count(world.staff_x) == 1
    assert inspections.overdue_count(world.staff_y) == 0
    assert inspections.list_locations(actor=world.staff_y) == []
    with pytest.raises(NotFound):
        inspections.record_inspection(
            actor=world.staff_y, location_id=late.id, inspected_on=today_cst(), checklist=ALL_OK
        )
