"""GET /v1/pension (issue 18): the veteran's own amount, components, state and reason, the last 12 payments of
confirmed runs with their status, the account masked; an empty state before pay starts; someone else's data never."""

from datetime import date

import pytest

from backend.db import transaction
from backend.extensions import db
from backend.pension import accounts
from backend.pension.models import PayrollLine, PayrollRun
from tests.factories import create_veteran
from tests.helpers import ApiClient
from tests.pension.pay_helpers import started_veteran, suspend
from tests.registration.helpers import account_for


def _client(api_app, veteran):
    from miniprogram_api.security import issue_tokens

    account = account_for(veteran)
    with api_app.test_request_context():
        return ApiClient(api_app, issue_tokens(account)["access_token"])


def _line(world, veteran, month, status, net, reason=None, state="confirmed"):
    with transaction():
        run = PayrollRun(
            unit_id=world.x.id,
            month=month,
            number=f"T-{veteran.id}-{month:%Y%m}-{status}",
            state=state,
            maker_id=world.staff_x.id,
        )
        db.session.add(run)
        db.session.flush()
        db.session.add(
            PayrollLine(
                run_id=run.id,
                veteran_id=veteran.id,
                station_id=veteran.station_id,
                base_fen=net,
                net_fen=net,
                status=status,
                bank_reason=reason,
            )
        )


@pytest.fixture
def paid(world, api_app):
    veteran = started_veteran(world, start_on=date(2024, 1, 1), base="3000", allowance="450.5")
    accounts.set_account(
        actor=world.staff_x,
        veteran_id=veteran.id,
        bank="中国农业银行",
        branch="青山支行",
        number="6228480012345678",
        holder=veteran.name,
    )
    return veteran, _client(api_app, veteran)


def test_own_pay_with_components_payments_and_masked_account(world, paid):
    veteran, api = paid
    _line(world, veteran, date(2025, 1, 1), "paid", 345050)
    _line(world, veteran, date(2025, 2, 1), "failed", 345050, reason="账户已销户")
    _line(world, veteran, date(2025, 3, 1), "pending", 345050, state="ready")  # not confirmed: not shown
    response = api.get("/v1/pension", expect=200)
    assert response.headers["Cache-Control"] == "no-store"
    body = response.get_json()
    assert body["state"] == "active" and body["state_label"] == "正常发放" and body["reason"] is None
    assert (body["monthly_fen"], body["monthly_yuan"]) == (345050, "3450.50")
    assert [c["component"] for c in body["components"]] == ["base", "allowance"]
    assert body["components"][1]["funding_label"] == "地方资金"
    assert [(p["month"], p["status"]) for p in body["payments"]] == [("2025-02", "failed"), ("2025-01", "paid")]
    assert body["payments"][0]["reason"] == "账户已销户" and body["payments"][1]["reason"] is None
    assert body["account"] == {"bank": "中国农业银行", "last4": "5678"}
    assert "6228480012345678" not in response.get_data(as_text=True)


def test_suspended_pay_tells_the_reason(world, paid):
    veteran, api = paid
    suspend(world, veteran, date(2025, 1, 1), reason="public_post")
    body = api.get("/v1/pension", expect=200).get_json()
    assert body["state"] == "suspended" and body["reason"]["code"] == "public_post"
    assert "公务员" in body["reason"]["message"]


def test_no_profile_is_an_empty_pending_state(world, api_app):
    veteran = create_veteran(station=world.x1)
    body = _client(api_app, veteran).get("/v1/pension", expect=200).get_json()
    assert body["state"] == "pending" and body["monthly_fen"] == 0 and body["payments"] == []
    assert body["account"] is None and "尚未起发" in body["message"]


def test_another_veterans_pay_never_shows(world, paid, api_app):
    veteran, _ = paid
    other = create_veteran(station=world.y1)
    body = _client(api_app, other).get("/v1/pension", expect=200).get_json()
    assert body["state"] == "pending" and body["components"] == []


def test_documented_in_openapi(api):
    doc = api.get("/openapi.json", expect=200).get_json()
    assert "/v1/pension" in doc["paths"] and "PensionSchema" in str(doc["components"]) or "Pension" in str(doc)


def test_a_month_held_by_a_suspension_shows_as_suspended_not_pending(world, paid):
    from sqlalchemy import update

    veteran, api = paid
    _line(world, veteran, date(2025, 4, 1), "pending", 0)
    with transaction():
        db.session.execute(
            update(PayrollLine).where(PayrollLine.veteran_id == veteran.id).values(held=True, exceptions=["suspended"])
        )
    payment = api.get("/v1/pension", expect=200).get_json()["payments"][0]
    assert (payment["status"], payment["status_label"]) == ("suspended", "暂停发放")
