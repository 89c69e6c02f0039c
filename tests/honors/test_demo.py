"""Demo honors (backend/honors/demo.py): the whole demo loads with a 八一 celebration with invitations (some
answered), a few awards and a chronicle candidate the county reviewer may review (so `make run` shows the pages)."""

import pytest
from sqlalchemy import func, select

from backend import demo as backend_demo
from backend.extensions import db
from backend.honors import ceremonies, chronicle
from backend.honors.models import Award, Ceremony, ChronicleEntry
from backend.staff.models import Staff


def test_the_demo_loads_honors(monkeypatch, tmp_path):
    monkeypatch.setattr(backend_demo, "logins_file", lambda: tmp_path / "demo-logins.txt")
    if db.session.scalar(select(func.count()).select_from(backend_demo.OrgUnit)):
        pytest.skip("the test database already holds units")
    lines = backend_demo.load_demo()
    assert lines
    ceremony = db.session.scalars(select(Ceremony).where(Ceremony.title == "八一建军节座谈会")).one()
    figures = ceremonies.counts([ceremony.id])[ceremony.id]
    assert figures["invited"] == 12 and figures["accepted"] > 0 and figures["declined"] > 0 and figures["waiting"] > 0
    assert db.session.scalar(select(func.count()).select_from(Award)) == 3
    reviewer = db.session.scalars(select(Staff).where(Staff.username == "reviewer")).one()
    assert db.session.scalar(select(func.count()).select_from(chronicle.awaiting_review(reviewer).subquery())) == 1
    assert db.session.scalar(select(ChronicleEntry.status)) == "candidate"
    assert ceremonies.upcoming(actor=reviewer)
