"""The phone's checklist: the bound veteran's own case with what to bring; none is {"case": null}; never another's;
no staff names or notes."""

import pytest

from backend.onboarding import steps
from tests.helpers import ApiClient
from tests.onboarding.helpers import new_case
from tests.registration.helpers import account_for


@pytest.fixture
def phone(world, api_app):
    from miniprogram_api.security import issue_tokens

    veteran, case = new_case(world, party_member=False)
    with api_app.test_request_context():
        token = issue_tokens(account_for(veteran))["access_token"]
    return veteran, case, ApiClient(api_app, token)


def test_the_veteran_sees_their_checklist_with_what_to_bring(world, phone):
    veteran, case, api = phone
    steps.set_state(actor=world.staff_x, case_id=case.id, step="check_in", to_state="done", note="王站员经办，电话1380")
    body = api.get("/v1/onboarding", expect=200).json["case"]
    assert body["status"] == "open" and body["party_member"] is False
    by_code = {s["code"]: s for s in body["steps"]}
    assert list(by_code)[:2] == ["party_transfer", "check_in"] and len(by_code) == 9
    assert by_code["party_transfer"]["state"] == "not_applicable" and by_code["party_transfer"]["required"] is False
    assert by_code["check_in"]["state"] == "done" and by_code["check_in"]["done_on"]
    assert "安置通知书" in by_code["check_in"]["what_to_bring"] and "户口迁移证" in by_code["hukou"]["what_to_bring"]
    assert by_code["hukou"]["name"] == "落户" and by_code["hukou"]["due_on"]
    text = str(body)
    assert "王站员" not in text and "1380" not in text and world.staff_x.full_name not in text


def test_without_a_case_the_answer_is_null_and_another_veterans_case_never_shows(world, api_app):
    from miniprogram_api.security import issue_tokens
    from tests.factories import create_veteran

    new_case(world)  # someone else's case
    veteran = create_veteran(station=world.x1)
    with api_app.test_request_context():
        token = issue_tokens(account_for(veteran))["access_token"]
    assert ApiClient(api_app, token).get("/v1/onboarding", expect=200).json == {"case": None}


def test_the_checklist_is_in_the_openapi_document(api_app):
    doc = api_app.test_client().get("/openapi.json").json
    assert "/v1/onboarding" in doc["paths"]
