"""The phone's booking endpoints: /services, /services/{id}/slots, /bookings and its cancel and reschedule."""

from datetime import timedelta

import pytest

from backend.bookings import calendar
from backend.bookings.models import Slot
from backend.registration.windows import today_cst
from tests.bookings.test_booking_support import count_bookings, fresh, make_service, make_slot, veteran_token
from tests.factories import create_veteran
from tests.helpers import ApiClient


@pytest.fixture
def phone(world, api_app):
    veteran = create_veteran(station=world.x1)
    service = make_service(world.x1, capacity=2)
    return world, veteran, service, ApiClient(api_app, veteran_token(api_app, veteran))


def test_services_lists_own_stations_active_services_with_materials_and_address(phone):
    world, veteran, service, api = phone
    make_service(world.x1, active=False, name="已停办")
    make_service(world.y1, name="外站服务")
    body = api.get("/v1/services", expect=200).json
    assert body["station"]["name"] == world.x1.name and body["station"]["address"].endswith(world.x1.name)
    assert world.x.name in body["station"]["address"]
    assert [s["name"] for s in body["items"]] == [service.name]
    item = body["items"][0]
    assert item["materials"] == ["身份证", "退役证"] and item["location"] == "一楼2号窗口"
    assert item["cutoff_minutes"] == 120 and item["book_ahead_days"] == 14


def test_slots_are_generated_for_open_days_with_free_counts(phone):
    world, veteran, service, api = phone
    tomorrow = today_cst() + timedelta(days=1)
    days = calendar.open_days(world.x1.id, tomorrow, tomorrow + timedelta(days=6))
    if not days:
        pytest.skip("no open day in the coming week")
    day = min(days).isoformat()
    items = api.get(f"/v1/services/{service.id}/slots?from={day}&to={day}", expect=200).json["items"]
    assert len(items) == 12  # 09:00-12:00 and 14:00-17:00 in 30 minutes
    assert items[0]["time"] == "09:00-09:30" and items[0]["starts_at"].endswith("+08:00")
    assert {i["date"] for i in items} == {day} and {i["free"] for i in items} == {2}
    api.post("/v1/bookings", json={"slot_id": items[0]["id"]}, expect=201)
    again = api.get(f"/v1/services/{service.id}/slots?from={day}&to={day}", expect=200).json["items"]
    assert again[0]["free"] == 1


def test_slots_default_to_the_booking_window(phone):
    world, veteran, service, api = phone
    items = api.get(f"/v1/services/{service.id}/slots", expect=200).json["items"]
    last = (today_cst() + timedelta(days=service.book_ahead_days)).isoformat()
    assert all(today_cst().isoformat() <= i["date"] <= last for i in items)


def test_slots_of_another_stations_service_answer_404(phone):
    world, veteran, service, api = phone
    foreign = make_service(world.y1)
    body = api.get(f"/v1/services/{foreign.id}/slots", expect=404).json
    assert body["error"]["code"] == "booking.service_not_found"


@pytest.mark.parametrize(
    "query", ["from=2026-01-10&to=2026-01-01", "from=2026-01-01&to=2026-02-15", "from=x", "to=2026-13-01"]
)
def test_slots_bad_range_answers_422(phone, query):
    world, veteran, service, api = phone
    assert api.get(f"/v1/services/{service.id}/slots?{query}", expect=422).json["error"]["code"] == "request.invalid"


def test_book_answers_201_with_code_qr_and_station(phone):
    world, veteran, service, api = phone
    slot = make_slot(service)
    body = api.post("/v1/bookings", json={"slot_id": slot.id}, expect=201).json
    assert body["status"] == "booked" and body["status_label"] == "已预约"
    assert len(body["code"]) == 8 and body["qr"].startswith("data:image/svg+xml")
    assert body["station_name"] == world.x1.name and body["materials"] == ["身份证", "退役证"]
    assert body["starts_at"].endswith("+08:00") and body["changeable"] is True
    assert body["cancelled_by"] is None and body["channel"] == "phone"
    assert fresh(Slot, slot.id).booked == 1


def test_book_full_slot_answers_409_slot_full_in_chinese(phone):
    world, veteran, service, api = phone
    slot = make_slot(service, booked=2)
    error = api.post("/v1/bookings", json={"slot_id": slot.id}, expect=409).json["error"]
    assert error["code"] == "booking.slot_full" and "约满" in error["message"]


def test_book_twice_answers_409_duplicate(phone):
    world, veteran, service, api = phone
    api.post("/v1/bookings", json={"slot_id": make_slot(service).id}, expect=201)
    error = api.post("/v1/bookings", json={"slot_id": make_slot(service).id}, expect=409).json["error"]
    assert error["code"] == "booking.duplicate"


def test_book_another_stations_slot_answers_404(phone):
    world, veteran, service, api = phone
    foreign = make_slot(make_service(world.y1))
    assert api.post("/v1/bookings", json={"slot_id": foreign.id}, expect=404).json["error"]["code"] == (
        "booking.slot_not_found"
    )


@pytest.mark.parametrize("payload", [{}, {"slot_id": "1"}, {"slot_id": 0}, {"slot_id": 1, "extra": 1}])
def test_book_with_a_bad_body_answers_422(phone, payload):
    world, veteran, service, api = phone
    assert api.post("/v1/bookings", json=payload, expect=422).json["error"]["code"] == "request.invalid"


def test_same_idempotency_key_replays_the_first_answer(phone):
    world, veteran, service, api = phone
    slot = make_slot(service)
    headers = {"Idempotency-Key": "book-once-1"}
    first = api.post("/v1/bookings", json={"slot_id": slot.id}, headers=headers, expect=201)
    again = api.post("/v1/bookings", json={"slot_id": slot.id}, headers=headers, expect=201)
    assert again.headers["Idempotent-Replayed"] == "true" and again.json == first.json
    assert count_bookings(veteran_id=veteran.id) == 1 and fresh(Slot, slot.id).booked == 1
    other = api.post("/v1/bookings", json={"slot_id": make_slot(service).id}, headers=headers, expect=422)
    assert other.json["error"]["code"] == "request.idempotency_mismatch"


def test_list_shows_own_bookings_newest_first_by_keyset(phone, api_app):
    world, veteran, service, api = phone
    ids = [
        api.post("/v1/bookings", json={"slot_id": make_slot(make_service(world.x1)).id}, expect=201).json["id"]
        for _ in range(3)
    ]
    other = create_veteran(station=world.x1)
    ApiClient(api_app, veteran_token(api_app, other)).post(
        "/v1/bookings", json={"slot_id": make_slot(service).id}, expect=201
    )
    page = api.get("/v1/bookings?limit=2", expect=200).json
    assert [i["id"] for i in page["items"]] == ids[::-1][:2]
    rest = api.get(f"/v1/bookings?limit=2&cursor={page['next_cursor']}", expect=200).json
    assert [i["id"] for i in rest["items"]] == [ids[0]] and rest["next_cursor"] is None


def test_cancel_answers_the_cancelled_booking_without_qr(phone):
    world, veteran, service, api = phone
    slot = make_slot(service, days=2)
    booking = api.post("/v1/bookings", json={"slot_id": slot.id}, expect=201).json
    body = api.post(f"/v1/bookings/{booking['id']}/cancel", expect=200).json
    assert (body["status"], body["cancelled_by"], body["cancelled_by_label"]) == ("cancelled", "veteran", "本人取消")
    assert body["qr"] is None and body["changeable"] is False
    assert fresh(Slot, slot.id).booked == 0
    again = api.post(f"/v1/bookings/{booking['id']}/cancel", expect=409).json["error"]
    assert again["code"] == "booking.invalid_state"


def test_cancel_or_reschedule_another_veterans_booking_answers_404(phone, api_app):
    world, veteran, service, api = phone
    booking = api.post("/v1/bookings", json={"slot_id": make_slot(service).id}, expect=201).json
    stranger = ApiClient(api_app, veteran_token(api_app, create_veteran(station=world.x1)))
    assert stranger.post(f"/v1/bookings/{booking['id']}/cancel", expect=404).json["error"]["code"] == (
        "booking.not_found"
    )
    stranger.post(f"/v1/bookings/{booking['id']}/reschedule", json={"slot_id": make_slot(service).id}, expect=404)


def test_reschedule_answers_the_moved_booking(phone):
    world, veteran, service, api = phone
    old, new = make_slot(service, days=2), make_slot(service, days=3)
    booking = api.post("/v1/bookings", json={"slot_id": old.id}, expect=201).json
    body = api.post(f"/v1/bookings/{booking['id']}/reschedule", json={"slot_id": new.id}, expect=200).json
    assert body["id"] == booking["id"] and body["code"] == booking["code"]
    assert body["starts_at"] != booking["starts_at"]
    assert fresh(Slot, old.id).booked == 0 and fresh(Slot, new.id).booked == 1


def test_reschedule_into_a_full_slot_answers_409(phone):
    world, veteran, service, api = phone
    booking = api.post("/v1/bookings", json={"slot_id": make_slot(service).id}, expect=201).json
    full = make_slot(service, booked=2)
    error = api.post(f"/v1/bookings/{booking['id']}/reschedule", json={"slot_id": full.id}, expect=409).json["error"]
    assert error["code"] == "booking.slot_full"


def test_cancel_after_the_cutoff_answers_409(phone):
    world, veteran, service, api = phone
    from backend.db import utcnow

    slot = make_slot(service, starts_at=utcnow() + timedelta(minutes=90))
    booking = api.post("/v1/bookings", json={"slot_id": slot.id}, expect=201).json
    assert booking["changeable"] is False
    error = api.post(f"/v1/bookings/{booking['id']}/cancel", expect=409).json["error"]
    assert error["code"] == "booking.cutoff_passed" and error["details"]["deadline"]


def test_blocked_veteran_gets_409_with_the_date(phone):
    from tests.bookings.test_booking_support import block

    world, veteran, service, api = phone
    block(veteran)
    error = api.post("/v1/bookings", json={"slot_id": make_slot(service).id}, expect=409).json["error"]
    assert error["code"] == "booking.blocked" and error["details"]["blocked_until"]


def test_booking_endpoints_need_a_bound_veteran(api_app):
    anonymous = ApiClient(api_app)
    for method, url in (("GET", "/v1/services"), ("GET", "/v1/bookings"), ("POST", "/v1/bookings")):
        assert anonymous.call(method, url, json={"slot_id": 1} if method == "POST" else None, expect=401)
