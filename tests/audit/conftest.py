"""Shared fixtures of the audit tests: a checkpoint file of the test's own, and a helper that writes audit rows."""

import pytest

from backend.audit import service


@pytest.fixture
def sink(tmp_path, monkeypatch, app, portal_app):
    path = tmp_path / "audit-checkpoints.log"
    for flask_app in (app, portal_app):
        monkeypatch.setitem(flask_app.config, "AUDIT_CHECKPOINT_FILE", str(path))
    return path


def log_rows(count, world):
    for i in range(count):
        service.record_now(actor=world.staff_x, action="staff.login", object_id=i)
