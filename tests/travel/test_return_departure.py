"""A trip is marked returned only after it departed: the return reports the departure with it, or answers 409."""

from datetime import date

import pytest
from freezegun import freeze_time

from backend.errors import ValidationFailed
from backend.travel import service
from tests.api.helpers import bound_client, login
from tests.factories import create_veteran
from tests.registration.helpers import account_for

TODAY = "2027-05-30 02:00:00"  # 10:00 CST


@pytest.fixture
def account(world):
    veteran = create_veteran(station=world.x1)
    account = account_for(veteran)
    service.give_consent(veteran=veteran, actor=account)
    return account


def _planned(account):
    with freeze_time("2027-05-10 02:00:00"):
        return service.report_trip(
            account=account,
            destination="JP",
            purpose="tourism",
            document_type="passport",
            planned_departure=date(2027, 5, 20),
            planned_return=date(2027, 5, 28),
        )


@freeze_time(TODAY)
def test_return_of_a_trip_never_departed_without_its_departure_is_invalid_state(account):
    trip = _planned(account)
    with pytest.raises(service.TripStateInvalid) as refused:
        service.report_return(account=account, trip_id=trip.id, returned_on=date(2027, 5, 29))
    assert "departed_on" in refused.value.details and "出境日期" in refused.value.message
    assert trip.status == "planned" and "returned_on" not in trip.details


@freeze_time(TODAY)
def test_return_with_its_departure_records_both(account):
    trip = _planned(account)
    service.report_return(
        account=account, trip_id=trip.id, returned_on=date(2027, 5, 29), departed_on=date(2027, 5, 21)
    )
    assert trip.status == "returned"
    assert trip.details["departed_on"] == date(2027, 5, 21) and trip.details["returned_on"] == date(2027, 5, 29)
    assert [e.action for e in service.list_events(trip)] == ["reported", "departed", "returned"]


@freeze_time(TODAY)
@pytest.mark.parametrize(
    "departed_on,returned_on,field",
    [
        (date(2027, 5, 31), date(2027, 5, 31), "departed_on"),  # departure in the future
        (date(2027, 4, 1), date(2027, 5, 29), "departed_on"),  # long before the planned departure
        (date(2027, 5, 25), date(2027, 5, 24), "returned_on"),  # back before leaving
    ],
)
def test_return_with_an_unreasonable_departure_is_refused(account, departed_on, returned_on, field):
    trip = _planned(account)
    with pytest.raises(ValidationFailed) as refused:
        service.report_return(account=account, trip_id=trip.id, returned_on=returned_on, departed_on=departed_on)
    assert field in refused.value.details and trip.status == "planned"


@freeze_time(TODAY)
def test_return_of_a_departed_trip_needs_no_departure_and_refuses_a_contradicting_one(account):
    trip = _planned(account)
    with freeze_time("2027-05-20 02:00:00"):
        service.mark_departed(account=account, trip_id=trip.id)
    with pytest.raises(ValidationFailed) as refused:
        service.report_return(
            account=account, trip_id=trip.id, returned_on=date(2027, 5, 29), departed_on=date(2027, 5, 19)
        )
    assert "departed_on" in refused.value.details
    service.report_return(
        account=account, trip_id=trip.id, returned_on=date(2027, 5, 29), departed_on=date(2027, 5, 20)
    )
    assert trip.status == "returned" and trip.details["departed_on"] == date(2027, 5, 20)
    assert [e.action for e in service.list_events(trip)] == ["reported", "departed", "returned"]


def test_phone_return_reports_the_departure_or_answers_409(api_app, fake_wechat, world):
    veteran = create_veteran(station=world.x1)
    with freeze_time("2027-05-10 02:00:00"):
        client = bound_client(api_app, fake_wechat, veteran)
        client.post("/v1/travels/consent", json={"notice_version": service.NOTICE_VERSION}, expect=200)
        body = {
            "destination": "JP",
            "purpose": "tourism",
            "document_type": "passport",
            "planned_departure": "2027-05-20",
            "planned_return": "2027-05-28",
        }
        trip = client.post("/v1/travels", json=body, expect=201).get_json()
    with freeze_time(TODAY):
        client = login(api_app, fake_wechat, f"o-{veteran.id}")  # the first token has long expired
        url = f"/v1/travels/{trip['id']}/return"
        refused = client.post(url, json={"returned_on": "2027-05-29"}, expect=409).get_json()["error"]
        assert refused["code"] == "travel.invalid_state" and "departed_on" in refused["details"]
        done = client.post(url, json={"returned_on": "2027-05-29", "departed_on": "2027-05-21"}, expect=200)
        assert done.get_json() | {"status": "returned", "departed_on": "2027-05-21", "returned_on": "2027-05-29"} == (
            done.get_json()
        )
        again = client.post(url, json={"returned_on": "2027-05-29", "departed_on": "2027-05-21"}, expect=409)
        assert again.get_json()["error"]["code"] == "travel.invalid_state"
