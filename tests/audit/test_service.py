"""The audit log: append-only at the database, scoped and filterable for auditors (the keyed chain: test_chain.py)."""

from datetime import date

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DatabaseError

from backend.audit import chain, service
from backend.audit.models import AuditLog
from backend.audit.verify import verify
from backend.db import transaction
from backend.errors import PermissionDenied
from backend.extensions import db
from backend.logs import reset_request_context, set_request_context


def test_record_fills_actor_and_request_and_leaves_chaining_to_the_sealer(world):
    tokens = set_request_context("req-123", "10.0.0.9")
    try:
        with transaction():
            first = service.record(actor=world.staff_x, action="staff.login", object_type="staff", object_id=1)
            second = service.record(actor=None, action="staff.login", result="failure")
    finally:
        reset_request_context(tokens)
    assert first.request_id == "req-123" and first.source_ip == "10.0.0.9"
    assert first.actor_roles == "center_reviewer,station_staff" and first.org_path == world.x.path
    assert second.actor_type == "anonymous" and first.row_hash is None and second.prev_hash is None
    assert chain.seal_pending().sealed == 2 and verify().ok


def test_record_rolls_back_with_the_change():
    with pytest.raises(RuntimeError):
        with transaction():
            service.record(actor=None, action="staff.login")
            raise RuntimeError("boom")
    assert db.session.scalar(select(AuditLog.id)) is None


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_log SET action = 'x'",
        "DELETE FROM audit_log",
        "UPDATE audit_seal SET chain_hash = 'x'",
        "DELETE FROM audit_seal",
    ],
)
def test_database_refuses_update_and_delete(world, statement, as_owner):
    """The trigger refuses even the owner (the app role lacks the privilege anyway: tests/test_dbroles.py)."""
    service.record_now(actor=None, action="staff.login")
    chain.seal_pending()
    with pytest.raises(DatabaseError, match="append-only"):
        with as_owner():
            db.session.execute(text(statement))
    assert db.session.scalar(select(AuditLog.action)) == "staff.login"


def test_list_audit_requires_auditor_and_is_scoped(world):
    service.record_now(actor=world.staff_x, action="staff.login")
    service.record_now(actor=world.staff_y, action="staff.login")
    service.record_now(actor=None, action="staff.login", result="failure")
    for actor in (world.sys_admin, world.security_admin, world.staff_x):
        with pytest.raises(PermissionDenied):
            service.list_audit(actor=actor, filters=service.AuditFilter())
    rows, _ = service.list_audit(actor=world.auditor, filters=service.AuditFilter())
    assert len(rows) == 3  # a root-unit auditor also sees unattributed rows
    from tests.factories import create_staff

    county_auditor = create_staff(unit=world.x, roles=("auditor",))
    rows, _ = service.list_audit(actor=county_auditor, filters=service.AuditFilter())
    assert {r.actor_id for r in rows} == {world.staff_x.id}


def test_list_audit_filters_and_pages(world):
    for i in range(7):
        service.record_now(actor=world.staff_x, action="staff.login", object_id=i)
    service.record_now(actor=world.staff_x, action="orgs.create", result="success")
    filters = service.AuditFilter(action="staff.login", actor=world.staff_x.username.upper())
    page1, next_before = service.list_audit(actor=world.auditor, filters=filters, limit=5)
    page2, end = service.list_audit(actor=world.auditor, filters=filters, before_id=next_before, limit=5)
    assert len(page1) == 5 and len(page2) == 2 and end is None
    assert [r.object_id for r in page1 + page2] == [str(i) for i in range(6, -1, -1)]
    today = service.list_audit(actor=world.auditor, filters=service.AuditFilter(date_from=date(2000, 1, 1)))[0]
    assert len(today) == 8
    none = service.list_audit(actor=world.auditor, filters=service.AuditFilter(date_to=date(2000, 1, 1)))[0]
    assert none == []
