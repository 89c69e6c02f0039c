"""Demo archives (backend/archives/demo.py): loaded with the whole demo, so `make run` shows the pages with data."""

import pytest
from sqlalchemy import func, select

from backend import demo as backend_demo
from backend.archives import inspections
from backend.archives import requests as archive_requests
from backend.archives.models import Archive, ArchiveAccessLog, ArchiveItem, ArchiveLocation
from backend.extensions import db
from backend.staff.models import Staff


def test_the_demo_has_locations_archives_and_a_pending_request(monkeypatch, tmp_path):
    monkeypatch.setattr(backend_demo, "logins_file", lambda: tmp_path / "demo-logins.txt")
    if db.session.scalar(select(func.count()).select_from(backend_demo.OrgUnit)):
        pytest.skip("the test database already holds units")
    assert backend_demo.load_demo()
    assert db.session.scalar(select(func.count()).select_from(ArchiveLocation)) == 2
    assert db.session.scalar(select(func.count()).select_from(Archive)) == 3
    assert db.session.scalar(select(func.count()).select_from(ArchiveItem)) == 15
    assert db.session.scalar(select(func.count()).select_from(ArchiveAccessLog)) == 4
    reviewer = db.session.scalars(select(Staff).where(Staff.username == "reviewer")).one()
    assert inspections.overdue_count(reviewer) == 1
    assert archive_requests.pending_count(reviewer) == 1  # filed by the station clerk: the reviewer may decide it
