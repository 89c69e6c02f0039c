"""Recording one visit under real concurrency (PostgreSQL, committed, separate connections): several clerks press
「确认登记」 at once; exactly one record stands, with one audit row, and the others are told it is recorded."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from tests.conftest import dispose_engines, own_database

pytestmark = pytest.mark.postgres
CLERKS = 6


@pytest.fixture(scope="module")
def race_app():
    from backend import create_app as create_backend

    app = own_database("visit_race", create_backend, pool_size=CLERKS + 2, max_overflow=0)
    yield app
    dispose_engines(app)


def test_concurrent_records_of_one_visit_leave_one(race_app):
    from backend.audit.models import AuditLog
    from backend.extensions import db
    from backend.registration.windows import today_cst
    from backend.visits import campaigns, records
    from backend.visits.models import Visit
    from tests.factories import build_world, create_veteran

    with race_app.app_context():
        world = build_world()
        create_veteran(station=world.x1)
        today = today_cst()
        campaign = campaigns.create_campaign(
            actor=world.staff_x, unit_id=world.x1.id, name="春节走访", starts_on=today, ends_on=today
        )
        visit_id = db.session.scalar(select(Visit.id).where(Visit.campaign_id == campaign.id))
        actor_id = world.staff_x.id
    barrier = threading.Barrier(CLERKS)

    def run(n):
        from backend.extensions import db
        from backend.staff.models import Staff

        with race_app.app_context():
            actor = db.session.get(Staff, actor_id)
            barrier.wait()
            try:
                return records.record_visit(
                    actor=actor,
                    visit_id=visit_id,
                    visited_on=today,
                    amount_fen=100 * (n + 1),
                    funding_source="local",
                    budget_year=today.year,
                    tell=False,
                ).amount_fen
            except Exception as error:  # noqa: BLE001 - the outcome is what the test counts
                return error

    with ThreadPoolExecutor(CLERKS) as pool:
        outcomes = list(pool.map(run, range(CLERKS)))
    won = [o for o in outcomes if isinstance(o, int)]
    assert len(won) == 1, outcomes
    assert all(isinstance(o, records.VisitAlreadyRecorded) for o in outcomes if not isinstance(o, int))
    with race_app.app_context():
        assert db.session.get(Visit, visit_id).amount_fen == won[0]
        audits = select(func.count()).where(AuditLog.action == "visits.recorded", AuditLog.object_id == str(visit_id))
        assert db.session.scalar(audits) == 1
