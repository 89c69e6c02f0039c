"""S18/S19 for bookings, through the real HTTP stack: the API app served by werkzeug's threaded server on a committed
PostgreSQL database of its own, many veterans pressing the button at the same moment (threads released by a barrier).

- 200 distinct veterans book one slot of capacity 10, 20 times over: exactly 10 x 201, 190 x 409 booking.slot_full,
  0 5xx, and the booking rows equal the slot's counter.
- One veteran sends 20 identical bookings at once, without and with one shared Idempotency-Key: exactly one booking.
- Concurrent reschedules into a nearly full slot, and crossing moves between two slots: never over capacity, no
  deadlock, every veteran holds exactly one slot.
"""

import http.client
import json
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, insert, select
from werkzeug.serving import make_server

from tests.conftest import dispose_engines, own_database

pytestmark = pytest.mark.postgres
VETERANS, CAPACITY, RUNS = 200, 10, 20


@pytest.fixture(scope="module")
def race():
    """(base_url, app, world, [(veteran_id, access_token)]) of a live API server on its own committed database."""
    from miniprogram_api import create_app as create_api

    app = own_database("booking_race", create_api, pool_size=20, max_overflow=0, pool_timeout=60)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    with app.app_context():
        world, people = _people(app)
    yield f"http://127.0.0.1:{server.server_port}/v1", app, world, people
    server.shutdown()
    server.server_close()
    dispose_engines(app)


def _people(app):
    from backend.accounts import tokens as tokens_service
    from backend.accounts.models import WechatAccount
    from backend.db import transaction, utcnow
    from backend.extensions import db
    from miniprogram_api.security import issue_tokens
    from tests.factories import build_world, create_veteran

    world = build_world()
    vets = [create_veteran(station=world.x1) for _ in range(VETERANS)]
    with transaction():
        now = utcnow()
        rows = [{"openid": f"o-race-{v.id}", "veteran_id": v.id, "bound_at": now} for v in vets]
        db.session.execute(insert(WechatAccount), rows)
    accounts = db.session.scalars(select(WechatAccount).where(WechatAccount.openid.like("o-race-%"))).all()
    with app.test_request_context():
        return world, [(a.veteran_id, issue_tokens(tokens_service.open_family(a))["access_token"]) for a in accounts]


def _fire(calls):
    """Run every (method, url, token, json, headers) at once; returns [(status, error code or None)]."""
    barrier = threading.Barrier(len(calls))

    def one(call):
        method, url, token, body, headers = call
        barrier.wait()
        parts = urlsplit(url)
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=120)
        payload = json.dumps(body).encode() if body is not None else None
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json", **headers}
        try:
            connection.request(method, parts.path, body=payload, headers=headers)
            response = connection.getresponse()
            answer = json.loads(response.read() or b"{}")
        finally:
            connection.close()
        return response.status, answer.get("error", {}).get("code") if response.status >= 400 else None

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(one, calls))


def _service_and_slot(world, capacity=CAPACITY, booked=0):
    from tests.bookings.test_booking_support import make_service, make_slot

    service = make_service(world.x1, capacity=capacity)
    return service, make_slot(service, capacity=capacity, booked=booked)


def _slot_state(slot_id):
    from backend.bookings.models import Booking, Slot
    from backend.extensions import db

    db.session.expire_all()
    booked = db.session.scalar(select(Slot.booked).where(Slot.id == slot_id))
    rows = db.session.scalar(
        select(func.count()).select_from(Booking).where(Booking.slot_id == slot_id, Booking.status == "booked")
    )
    return booked, rows


def test_200_veterans_on_a_slot_of_10_book_exactly_10_every_run(race):
    """20 runs of 200 concurrent requests (about 1.6 s each on 2 cores): the S18 race, repeated."""
    base, app, world, people = race
    with app.app_context():
        for run in range(RUNS):
            _, slot = _service_and_slot(world)
            calls = [("POST", f"{base}/bookings", token, {"slot_id": slot.id}, {}) for _, token in people]
            results = Counter(_fire(calls))
            assert results == {(201, None): CAPACITY, (409, "booking.slot_full"): VETERANS - CAPACITY}, (run, results)
            assert _slot_state(slot.id) == (CAPACITY, CAPACITY), run


def test_20_identical_bookings_from_one_veteran_make_one(race):
    base, app, world, people = race
    veteran_id, token = people[0]
    with app.app_context():
        _, slot = _service_and_slot(world)
        results = Counter(_fire([("POST", f"{base}/bookings", token, {"slot_id": slot.id}, {})] * 20))
        assert results == {(201, None): 1, (409, "booking.duplicate"): 19}, results
        assert _slot_state(slot.id) == (1, 1)

        _, slot = _service_and_slot(world)
        key = {"Idempotency-Key": f"race-{slot.id}"}
        results = Counter(_fire([("POST", f"{base}/bookings", token, {"slot_id": slot.id}, key)] * 20))
        assert set(results) <= {(201, None), (409, "request.idempotency_in_progress")}, results
        assert results[(201, None)] >= 1
        assert _slot_state(slot.id) == (1, 1)


def test_concurrent_reschedules_into_a_nearly_full_slot_never_overbook(race):
    from backend.bookings import service as booking_service
    from backend.bookings.models import Booking
    from backend.extensions import db
    from tests.bookings.test_booking_support import make_slot

    base, app, world, people = race
    with app.app_context():
        service, target = _service_and_slot(world, capacity=CAPACITY)
        sources = [make_slot(service, capacity=20, days=2) for _ in range(2)]
        holders, movers = people[:8], people[8:48]
        for veteran_id, _ in holders:
            booking_service.book(veteran_id=veteran_id, slot_id=target.id)
        moving = {}
        for i, (veteran_id, token) in enumerate(movers):
            moving[veteran_id] = (booking_service.book(veteran_id=veteran_id, slot_id=sources[i % 2].id).id, token)
        calls = [
            ("POST", f"{base}/bookings/{booking_id}/reschedule", token, {"slot_id": target.id}, {})
            for booking_id, token in moving.values()
        ]
        results = Counter(_fire(calls))
        assert results == {(200, None): 2, (409, "booking.slot_full"): len(movers) - 2}, results
        assert _slot_state(target.id) == (CAPACITY, CAPACITY)
        for slot in sources:
            booked, rows = _slot_state(slot.id)
            assert booked == rows
        held = Counter(
            db.session.scalars(
                select(Booking.veteran_id).where(Booking.service_id == service.id, Booking.status == "booked")
            )
        )
        assert set(held) == {v for v, _ in holders + movers} and set(held.values()) == {1}


def test_crossing_reschedules_between_two_slots_do_not_deadlock(race):
    """Half move A -> B while half move B -> A: locks are taken in slot id order, so all succeed, none 5xx."""
    from backend.bookings import service as booking_service
    from tests.bookings.test_booking_support import make_slot

    base, app, world, people = race
    with app.app_context():
        service, a = _service_and_slot(world, capacity=40)
        b = make_slot(service, capacity=40, days=2)
        calls = []
        for i, (veteran_id, token) in enumerate(people[:40]):
            source, dest = (a, b) if i % 2 else (b, a)
            booking = booking_service.book(veteran_id=veteran_id, slot_id=source.id)
            calls.append(("POST", f"{base}/bookings/{booking.id}/reschedule", token, {"slot_id": dest.id}, {}))
        results = Counter(_fire(calls))
        assert results == {(200, None): 40}, results
        assert _slot_state(a.id) == (20, 20) and _slot_state(b.id) == (20, 20)
