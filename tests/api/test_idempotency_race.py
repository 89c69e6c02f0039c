"""Concurrent requests with one Idempotency-Key make one effect (real commits on separate connections).

Runs on PostgreSQL against a database of its own (SQLite serializes writers, so it proves nothing there).
"""

import threading
from datetime import timedelta

import pytest

from tests.conftest import dispose_engines, own_database

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def idem_api():
    """An API app on a database of its own. No RATELIMIT_ENABLED=False: the limiter is shared by every API app."""
    from miniprogram_api import create_app

    app = own_database("idem", create_app, pool_size=12, max_overflow=4)
    yield app
    dispose_engines(app)


def _traveller(app):
    from backend.extensions import db
    from backend.registration.windows import today_cst
    from backend.travel import service as travel_service
    from miniprogram_api.security import issue_tokens
    from tests.factories import build_world, create_veteran
    from tests.registration.helpers import account_for

    with app.app_context():
        world = build_world()
        veteran = create_veteran(station=world.x1)
        account = account_for(veteran)
        travel_service.give_consent(veteran=veteran, actor=account)
        token = issue_tokens(account)["access_token"]
        today = today_cst()
        ids = (veteran.id, account.id)
        db.session.remove()
    body = {
        "destination": "JP",
        "purpose": "tourism",
        "document_type": "passport",
        "planned_departure": (today + timedelta(days=10)).isoformat(),
        "planned_return": (today + timedelta(days=20)).isoformat(),
    }
    return ids, token, body


def _count(app, model, **where):
    from sqlalchemy import func, select

    from backend.extensions import db

    with app.app_context():
        query = select(func.count()).select_from(model)
        for column, value in where.items():
            query = query.where(getattr(model, column) == value)
        value = db.session.scalar(query)
        db.session.remove()
        return value


def test_concurrent_posts_with_one_key_make_one_trip(idem_api):
    """10 rounds of 8 simultaneous POST /travels sharing a key: one trip per round; the others replay it or are told
    the first is still in progress."""
    from backend.idempotency.models import IdempotencyKey
    from backend.travel.models import Trip
    from tests.helpers import ApiClient

    (veteran_id, account_id), token, body = _traveller(idem_api)
    for round_no in range(10):
        barrier, answers = threading.Barrier(8), []

        def act(barrier=barrier, answers=answers, key=f"race-{round_no}"):
            client = ApiClient(idem_api, token)
            barrier.wait()
            response = client.post("/v1/travels", json=body, headers={"Idempotency-Key": key})
            answers.append((response.status_code, response.get_json(), response.headers.get("Idempotent-Replayed")))

        threads = [threading.Thread(target=act) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        statuses = sorted(status for status, _, _ in answers)
        assert set(statuses) <= {201, 409}, statuses
        originals = [json for status, json, replayed in answers if status == 201 and not replayed]
        assert len(originals) == 1, answers
        assert all(json == originals[0] for status, json, _ in answers if status == 201)
        assert all(
            json["error"]["code"] == "request.idempotency_in_progress" for status, json, _ in answers if status == 409
        )
        assert _count(idem_api, Trip, veteran_id=veteran_id) == round_no + 1
    assert _count(idem_api, IdempotencyKey, account_id=account_id) == 10
