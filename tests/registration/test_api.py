"""The phone's registration endpoints."""

from freezegun import freeze_time

from tests.api.helpers import bound_client
from tests.factories import create_veteran
from tests.registration.helpers import FULL


def test_phone_flow_draft_submit_history(api_app, fake_wechat, world):
    with freeze_time("2027-02-01 02:00:00"):
        client = bound_client(api_app, fake_wechat, create_veteran(station=world.x1))
        current = client.get("/v1/registrations/current", expect=200).get_json()
        assert current["status"] == "not_started" and current["window_open"] is True
        assert current["window"] == {
            "year": 2027,
            "opens_on": "2027-01-01",
            "closes_on": "2027-03-31",
            "extended": False,
        }
        client.call(
            "PUT", "/v1/registrations/current", json={"content": {"party_life": FULL["party_life"]}}, expect=200
        )
        missing = client.post("/v1/registrations/current/submit", expect=422).get_json()
        assert missing["error"]["code"] == "registration.incomplete" and "declaration" in missing["error"]["details"]
        bad = client.call(
            "PUT", "/v1/registrations/current", json={"content": {"employment": {"status": "x"}}}, expect=422
        ).get_json()
        assert "employment.status" in bad["error"]["details"]
        client.call("PUT", "/v1/registrations/current", json={"content": FULL}, expect=200)
        done = client.post("/v1/registrations/current/submit", expect=200).get_json()
        assert done["status"] == "submitted"
        assert client.call("DELETE", "/v1/registrations/current", expect=409).get_json()["error"]["code"] == (
            "registration.not_editable"
        )
        past = client.get("/v1/registrations", expect=200).get_json()
        assert [p["year"] for p in past["items"]] == [2027]


def test_outside_the_window_is_409_window_closed(api_app, fake_wechat, world):
    with freeze_time("2027-04-01 00:00:00"):  # 08:00 CST on 1 April
        client = bound_client(api_app, fake_wechat, create_veteran(station=world.x1))
        body = client.call("PUT", "/v1/registrations/current", json={"content": FULL}, expect=409).get_json()
        assert body["error"]["code"] == "registration.window_closed"
        assert body["error"]["details"]["closes_on"] == "2027-03-31"
        assert client.post("/v1/registrations/current/submit", expect=409).get_json()["error"]["code"] == (
            "registration.window_closed"
        )


def test_delete_draft(api_app, fake_wechat, world):
    with freeze_time("2027-02-01 02:00:00"):
        client = bound_client(api_app, fake_wechat, create_veteran(station=world.x1))
        client.call(
            "PUT", "/v1/registrations/current", json={"content": {"party_life": FULL["party_life"]}}, expect=200
        )
        assert client.call("DELETE", "/v1/registrations/current", expect=200).get_json()["status"] == "not_started"
        client.call("DELETE", "/v1/registrations/current", expect=404)
