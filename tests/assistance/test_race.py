"""Races held by the database (PostgreSQL): two approvals for one veteran never pass the yearly cap together; two
clerks taking up one case move it once."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.conftest import dispose_engines, own_database

pytestmark = pytest.mark.postgres
RUNS = 3


@pytest.fixture(scope="module")
def race_app():
    from backend import create_app as create_backend

    app = own_database("assistance_race", create_backend, pool_size=5, max_overflow=0)
    yield app
    dispose_engines(app)


def _run(app, fn, ids, staff_ids):
    from backend.extensions import db
    from backend.staff.models import Staff

    barrier = threading.Barrier(len(ids))

    def one(pair):
        case_id, staff_id = pair
        with app.app_context():
            barrier.wait()
            try:
                fn(actor=db.session.get(Staff, staff_id), case_id=case_id)
                return "ok"
            except Exception as error:  # noqa: BLE001 - the refusal's code is the result
                return getattr(error, "code", repr(error))

    with ThreadPoolExecutor(len(ids)) as pool:
        return sorted(pool.map(one, zip(ids, staff_ids, strict=True)))


def test_concurrent_approvals_for_one_veteran_stay_under_the_yearly_cap(race_app):
    from backend.assistance import transitions
    from tests.assistance.helpers import move_to, new_case, veteran_with_account
    from tests.factories import build_world

    for _ in range(RUNS):
        with race_app.app_context():
            race_app.config.update(ASSISTANCE_YEAR_CAP_FEN=300_000, ASSISTANCE_FOUR_EYES_ABOVE_FEN=10**9)
            world = build_world()
            _, account = veteran_with_account(world)
            ids = [move_to(world, new_case(world, account, amount_fen=200_000), "recommended").id for _ in range(2)]
            staff = [world.staff_x.id, world.staff_x.id]
        answers = _run(race_app, transitions.approve, ids, staff)
        assert answers == ["assistance.year_cap_exceeded", "ok"]


def test_two_clerks_taking_up_one_case_move_it_once(race_app):
    from backend.assistance import service, transitions
    from tests.assistance.helpers import new_case
    from tests.factories import build_world

    for _ in range(RUNS):
        with race_app.app_context():
            world = build_world()
            case_id = new_case(world).id
            staff = [world.staff_x.id, world.target.id]
        answers = _run(race_app, transitions.start_review, [case_id, case_id], staff)
        assert answers == ["assistance.invalid_state", "ok"]
        with race_app.app_context():
            assert [e.to_status for e in service.timeline(case_id)] == ["submitted", "under_review"]
