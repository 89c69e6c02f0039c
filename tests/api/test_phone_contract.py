"""Issue 10's phone contract: GET /registrations pages like every list; PATCH /me cannot erase the phone."""

import pytest
from sqlalchemy import select

from backend.db import transaction
from backend.extensions import db
from backend.registration.models import Registration
from backend.veterans.models import Veteran
from tests.api.helpers import bound_client
from tests.factories import create_veteran


def _past_years(veteran, years):
    with transaction():
        for year in years:
            db.session.add(
                Registration(veteran_id=veteran.id, unit_id=veteran.unit_id, year=year, status="approved", content={})
            )


def test_registrations_list_pages_by_limit_and_cursor(api_app, fake_wechat, world):
    veteran = create_veteran(station=world.x1)
    _past_years(veteran, range(2018, 2025))  # 7 years
    client = bound_client(api_app, fake_wechat, veteran)
    seen, cursor, pages = [], None, 0
    while True:
        query = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        page = client.get("/v1/registrations", query_string=query, expect=200).get_json()
        assert len(page["items"]) <= 3
        seen += [item["year"] for item in page["items"]]
        cursor, pages = page["next_cursor"], pages + 1
        if cursor is None:
            break
    assert seen == list(range(2024, 2017, -1)) and pages == 3
    everything = client.get("/v1/registrations", expect=200).get_json()  # default limit 20
    assert [i["year"] for i in everything["items"]] == seen and everything["next_cursor"] is None


def test_registrations_list_with_an_exact_page_has_no_next_cursor(api_app, fake_wechat, world):
    veteran = create_veteran(station=world.x1)
    _past_years(veteran, (2023, 2024))
    client = bound_client(api_app, fake_wechat, veteran)
    page = client.get("/v1/registrations?limit=2", expect=200).get_json()
    assert [i["year"] for i in page["items"]] == [2024, 2023] and page["next_cursor"] is None


@pytest.mark.parametrize(
    "query", ["limit=0", "limit=101", "cursor=0", "cursor=-1", "limit=x", "cursor=10000", f"cursor={2**62}"]
)
def test_registrations_list_refuses_bad_paging_with_422(api_app, fake_wechat, world, query):
    client = bound_client(api_app, fake_wechat, create_veteran(station=world.x1))
    answer = client.get(f"/v1/registrations?{query}", expect=422).get_json()
    assert answer["error"]["code"] == "request.invalid"
    assert set(answer["error"]["details"]) <= {"limit", "cursor"} and answer["error"]["details"]


def test_registrations_list_shows_only_own_years(api_app, fake_wechat, world):
    mine, theirs = create_veteran(station=world.x1), create_veteran(station=world.x1)
    _past_years(mine, (2024,))
    _past_years(theirs, (2023, 2022))
    client = bound_client(api_app, fake_wechat, mine)
    assert [i["year"] for i in client.get("/v1/registrations", expect=200).get_json()["items"]] == [2024]


@pytest.mark.parametrize("phone", [None, "", "   "])
def test_patch_me_cannot_erase_the_phone(api_app, fake_wechat, world, phone):
    veteran = create_veteran(station=world.x1, phone="13800138000")
    client = bound_client(api_app, fake_wechat, veteran)
    answer = client.call("PATCH", "/v1/me", json={"phone": phone}, expect=422).get_json()
    assert answer["error"]["code"] == "request.invalid"
    assert "手机号不能删除" in answer["error"]["details"]["phone"]
    db.session.expire_all()
    assert db.session.scalar(select(Veteran).where(Veteran.id == veteran.id)).phone == "13800138000"


def test_patch_me_still_changes_the_phone_and_clears_the_address(api_app, fake_wechat, world):
    veteran = create_veteran(station=world.x1, phone="13800138000")
    client = bound_client(api_app, fake_wechat, veteran)
    me = client.call("PATCH", "/v1/me", json={"phone": "13900139000", "address": None}, expect=200).get_json()
    assert me["phone"] == "13900139000" and me["address"] is None
    me = client.call("PATCH", "/v1/me", json={"address": "青山镇5号"}, expect=200).get_json()  # phone untouched
    assert me["phone"] == "13900139000" and me["address"] == "青山镇5号"


def test_openapi_documents_registrations_paging(api):
    spec = api.get("/openapi.json", expect=200).get_json()
    names = {p["name"] for p in spec["paths"]["/v1/registrations"]["get"].get("parameters", [])}
    assert {"limit", "cursor"} <= names
