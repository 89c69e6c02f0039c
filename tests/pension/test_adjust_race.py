"""Races held by the database (PostgreSQL, issue 18 part 2): two checkers applying one batch at once write its
amounts once; the other is told it is already applied."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.conftest import dispose_engines, own_database

pytestmark = pytest.mark.postgres
RUNS = 3


@pytest.fixture(scope="module")
def race_app():
    from backend import create_app as create_backend

    app = own_database("pension_adjust_race", create_backend, pool_size=5, max_overflow=0)
    yield app
    dispose_engines(app)


def _run(app, batch_id, staff_ids):
    from backend.extensions import db
    from backend.pension import adjust_preview
    from backend.staff.models import Staff

    barrier = threading.Barrier(len(staff_ids))

    def one(staff_id):
        with app.app_context():
            actor = db.session.get(Staff, staff_id)
            barrier.wait()
            try:
                adjust_preview.apply(actor=actor, batch_id=batch_id)
                return "ok"
            except Exception as error:  # noqa: BLE001 - the refusal's code is the result
                return getattr(error, "code", repr(error))

    with ThreadPoolExecutor(len(staff_ids)) as pool:
        return sorted(pool.map(one, staff_ids))


def test_two_checkers_at_once_apply_the_batch_once(race_app):
    from sqlalchemy import func, select

    from backend.extensions import db
    from backend.pension.amounts import components_of
    from backend.pension.models import AdjustmentBatch, PayAmount
    from tests.factories import build_world
    from tests.pension.adjust_helpers import checker, new_batch, paid_veteran, this_month

    for _ in range(RUNS):
        with race_app.app_context():
            world = build_world()
            veterans = [paid_veteran(world.x1, fen=100_000).id for _ in range(3)]
            batch_id = new_batch(world.staff_x, params={"percent": "10"}).id
            staff = [checker(world).id, checker(world).id]
        assert _run(race_app, batch_id, staff) == ["ok", "pension.batch_applied"]
        with race_app.app_context():
            assert db.session.get(AdjustmentBatch, batch_id).state == "applied"
            written = db.session.scalar(select(func.count()).where(PayAmount.batch_id == batch_id))
            assert written == 3
            assert {components_of(v, this_month())["base"][0] for v in veterans} == {110_000}
