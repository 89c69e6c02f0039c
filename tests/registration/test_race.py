"""S20: two reviewers act on one submission at once, 100 trials: exactly one wins, the other gets 409, nothing lost.

Needs real commits on separate connections, so it runs against a database of its own on PostgreSQL (SQLite has no
row locks). Slow (~10-20 s): 100 trials x 2 threads.
"""

import threading

import pytest
from freezegun import freeze_time

from tests.conftest import dispose_engines, make_config, migrate_database
from tests.conftest import test_database_url as database_url

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def race_app():
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from backend import create_app

    parsed = make_url(database_url())
    name = f"{parsed.database}_race"
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if not conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).scalar():
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    url = parsed.set(database=name).render_as_string(hide_password=False)
    migrate_database(url)
    app = create_app(make_config(url, SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 5}))
    yield app
    dispose_engines(app)


@freeze_time("2027-02-01 02:00:00")
def test_two_reviewers_at_once_exactly_one_wins(race_app):
    from backend.extensions import db
    from backend.registration import review, service
    from backend.registration.models import Registration
    from backend.staff.models import Staff
    from tests.factories import build_world, create_staff, create_veteran
    from tests.registration.helpers import FULL, account_for

    with race_app.app_context():
        world = build_world()
        reviewers = [create_staff(unit=world.x, roles=("center_reviewer",)).id for _ in range(2)]
        cases = []
        for _ in range(100):
            veteran = create_veteran(station=world.x1)
            account = account_for(veteran)
            service.save_draft(account=account, content=FULL)
            reg = service.submit(account=account)
            cases.append((reg.id, reg.version_id))
        db.session.remove()

    outcomes = []
    for reg_id, version in cases:
        barrier, results = threading.Barrier(2), []

        def act(reviewer_id, kind, barrier=barrier, results=results, reg_id=reg_id, version=version):
            with race_app.app_context():
                actor = db.session.get(Staff, reviewer_id)
                barrier.wait()
                try:
                    if kind == "approve":
                        review.approve(actor=actor, registration_id=reg_id, expected_version=version)
                    else:
                        review.return_for_correction(
                            actor=actor,
                            registration_id=reg_id,
                            expected_version=version,
                            reasons={"contact": "电话不通"},
                        )
                    results.append(kind)
                except review.RegistrationChanged:
                    results.append("409")
                finally:
                    db.session.remove()

        threads = [
            threading.Thread(target=act, args=(reviewers[0], "approve")),
            threading.Thread(target=act, args=(reviewers[1], "return")),
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        outcomes.append(sorted(results))

    assert all(len(r) == 2 and r.count("409") == 1 for r in outcomes), outcomes
    with race_app.app_context():
        final = {
            r.id: r.status for r in db.session.query(Registration).filter(Registration.id.in_([c[0] for c in cases]))
        }
        winners = {
            reg_id: next(k for k in outcome if k != "409") for (reg_id, _), outcome in zip(cases, outcomes, strict=True)
        }
        expected = {"approve": "approved", "return": "returned"}
        assert all(final[reg_id] == expected[kind] for reg_id, kind in winners.items())  # no lost update


@freeze_time("2027-02-01 02:00:00")
def test_bulk_and_single_approve_at_once(race_app):
    """The bulk path's version predicate holds against a concurrent single approval (and vice versa)."""
    from backend.extensions import db
    from backend.registration import review, service
    from backend.staff.models import Staff
    from tests.factories import build_world, create_staff, create_veteran
    from tests.registration.helpers import FULL, account_for

    with race_app.app_context():
        world = build_world()
        a, b = (create_staff(unit=world.x, roles=("center_reviewer",)).id for _ in range(2))
        items = []
        for _ in range(20):
            veteran = create_veteran(station=world.x1)
            account = account_for(veteran)
            service.save_draft(account=account, content=FULL)
            reg = service.submit(account=account)
            items.append((reg.id, reg.version_id))
        db.session.remove()

    results = {}
    barrier = threading.Barrier(2)

    def bulk():
        with race_app.app_context():
            actor = db.session.get(Staff, a)
            barrier.wait()
            results["bulk"] = review.bulk_approve(actor=actor, items=items)
            db.session.remove()

    def singles():
        with race_app.app_context():
            actor = db.session.get(Staff, b)
            barrier.wait()
            won = 0
            for reg_id, version in items:
                try:
                    review.return_for_correction(
                        actor=actor, registration_id=reg_id, expected_version=version, reasons={"contact": "x"}
                    )
                    won += 1
                except review.RegistrationChanged:
                    pass
            results["singles"] = won
            db.session.remove()

    threads = [threading.Thread(target=bulk), threading.Thread(target=singles)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    approved, changed = results["bulk"]
    assert len(approved) + results["singles"] == 20 and len(approved) + len(changed) == 20
