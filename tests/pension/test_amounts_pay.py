"""A veteran's pay (issue 18, part 1): amounts in force and same-month corrections, append-only history, the pay page
and its writes — scope, the account sealed and its reveal audited, a stale form refused in Chinese."""

from datetime import date

import pytest
from sqlalchemy import select

from backend.audit.models import AuditLog
from backend.errors import NotFound
from backend.extensions import db
from backend.pension import accounts, amounts, profile
from backend.pension.models import PayAccount, PayAmount
from backend.pension.rules import BadMonth, NotStarted, ProfileChanged
from tests.factories import create_veteran
from tests.helpers import portal_as
from tests.pension.pay_helpers import set_amount, started_veteran, version


def _audits(action, veteran):
    return db.session.scalars(
        select(AuditLog).where(AuditLog.action == action, AuditLog.object_id == str(veteran.id))
    ).all()


def test_amounts_in_force_follow_effective_months_and_same_month_corrections(world):
    veteran = started_veteran(world, start_on=date(2024, 1, 15), base="3000", allowance="500")
    set_amount(world, veteran, "base", "3100", "2025-01")
    set_amount(world, veteran, "base", "3150.50", "2025-01")  # a same-month correction: the later row wins
    assert amounts.components_of(veteran.id, date(2024, 12, 1)) == {
        "base": (300000, "central"),
        "allowance": (50000, "local"),
    }
    assert amounts.components_of(veteran.id, date(2025, 1, 1))["base"] == (315050, "central")
    assert amounts.monthly_fen(veteran.id, date(2025, 6, 1)) == 315050 + 50000
    rows = db.session.scalars(select(PayAmount).where(PayAmount.veteran_id == veteran.id)).all()
    assert len(rows) == 4  # appended, never edited
    assert len(_audits("pension.amount_set", veteran)) == 4


def test_owed_for_spans_an_adjustments_effective_month(world):
    veteran = started_veteran(world, start_on=date(2024, 1, 1), base="3000")
    set_amount(world, veteran, "base", "3300", "2024-04")  # effective inside the range
    months = amounts.months_between(date(2024, 2, 1), date(2024, 6, 1))  # Feb..May
    assert amounts.owed_for(veteran.id, months) == 2 * 300000 + 2 * 330000


def test_the_month_must_be_a_month_not_before_pay_started(world):
    veteran = started_veteran(world, start_on=date(2024, 3, 10))
    for bad in ("2024-02", "2024-13", "2024-3", "2024-03-01", "x"):
        with pytest.raises(BadMonth):
            set_amount(world, veteran, "base", "1", bad)
    set_amount(world, veteran, "base", "1", "2024-03")  # the start's own month is fine


def test_amounts_need_a_started_pay_and_the_current_version(world):
    veteran = create_veteran(station=world.x1)
    with pytest.raises(NotStarted):
        profile.set_amount(
            actor=world.staff_x,
            veteran_id=veteran.id,
            expected_version="1",
            component="base",
            amount="1",
            funding="central",
            month="2024-01",
        )
    veteran = started_veteran(world)
    stale = version(veteran)
    set_amount(world, veteran, "base", "3200", "2025-01")
    with pytest.raises(ProfileChanged) as caught:
        profile.set_amount(
            actor=world.staff_x,
            veteran_id=veteran.id,
            expected_version=stale,
            component="base",
            amount="1",
            funding="central",
            month="2025-02",
        )
    assert "刷新" in caught.value.message


def test_other_stations_staff_see_not_found_on_page_and_writes(world, portal_app):
    veteran = started_veteran(world)
    with pytest.raises(NotFound):
        profile.pay_view(actor=world.staff_y, veteran_id=veteran.id)
    with pytest.raises(NotFound):
        accounts.set_account(
            actor=world.staff_y, veteran_id=veteran.id, bank="农行", branch="", number="6228480000000001", holder="张三"
        )
    client = portal_as(portal_app, world.staff_y)
    client.get(f"/pension/veterans/{veteran.id}", expect=404)
    client.post(
        f"/pension/veterans/{veteran.id}/amount",
        data={
            "version": version(veteran),
            "component": "base",
            "amount": "1",
            "funding": "central",
            "month": "2025-01",
        },
        expect=404,
    )
    client.post(f"/pension/veterans/{veteran.id}/reveal", expect=404)
    assert len(db.session.scalars(select(PayAmount).where(PayAmount.veteran_id == veteran.id)).all()) == 1


def test_account_is_sealed_masked_and_its_reveal_audited(world, portal_app):
    veteran = started_veteran(world, base="3500", allowance="400")
    client = portal_as(portal_app, world.staff_x)
    client.post(
        f"/pension/veterans/{veteran.id}/account",
        data={"bank": "中国农业银行", "branch": "青山支行", "number": "6228 4800 1234 5678", "holder": veteran.name},
        expect=302,
    )
    stored = db.session.scalars(select(PayAccount).where(PayAccount.veteran_id == veteran.id)).one()
    assert "62284800" not in stored.account_enc and stored.account_last4 == "5678"
    [audit] = _audits("pension.account_set", veteran)
    assert "6228480012345678" not in str(audit.details)
    html = client.get(f"/pension/veterans/{veteran.id}", expect=200).get_data(as_text=True)
    assert "**** 5678" in html and "6228480012345678" not in html and "3,900.00" in html
    html = client.post(f"/pension/veterans/{veteran.id}/reveal", expect=200).get_data(as_text=True)
    assert "6228480012345678" in html
    assert len(_audits("pension.account_revealed", veteran)) == 1
    supervisor = portal_as(portal_app, world.supervisor_parent)  # pension.view, no pension.reveal
    assert "查看完整账号" not in supervisor.get(f"/pension/veterans/{veteran.id}", expect=200).get_data(as_text=True)
    supervisor.post(f"/pension/veterans/{veteran.id}/reveal", expect=403)


def test_portal_writes_flash_chinese_errors_and_append(world, portal_app):
    veteran = started_veteran(world)
    client = portal_as(portal_app, world.staff_x)
    url = f"/pension/veterans/{veteran.id}/amount"
    form = {"version": version(veteran), "component": "base", "funding": "central", "month": "2025-01"}
    client.post(url, data={**form, "amount": "12.345"}, expect=302)
    assert "两位小数" in client.get(f"/pension/veterans/{veteran.id}").get_data(as_text=True)
    client.post(url, data={**form, "amount": "3,600.00"}, expect=302)
    client.post(url, data={**form, "amount": "3700"}, expect=302)  # the form's version is stale now
    page = client.get(f"/pension/veterans/{veteran.id}").get_data(as_text=True)
    assert "刚被他人修改" in page and "3,600.00" in page
    assert amounts.components_of(veteran.id, date(2025, 1, 1))["base"] == (360000, "central")


def test_veteran_page_section_shows_amount_state_and_masked_account(world, portal_app):
    veteran = started_veteran(world, base="3000")
    accounts.set_account(
        actor=world.staff_x,
        veteran_id=veteran.id,
        bank="中国工商银行",
        branch=None,
        number="622202000011112222",
        holder=veteran.name,
    )
    html = portal_as(portal_app, world.staff_x).get(f"/veterans/{veteran.id}", expect=200).get_data(as_text=True)
    assert 'data-testid="veteran-pension"' in html and "3,000.00" in html and "**** 2222" in html
    assert "622202000011112222" not in html


def test_landing_page_searches_by_name_in_scope(world, portal_app):
    veteran = started_veteran(world, name="退役金张")
    html = portal_as(portal_app, world.staff_x).get("/pension/?name=退役金张", expect=200).get_data(as_text=True)
    assert f"/pension/veterans/{veteran.id}" in html and "正常发放" in html
    html = portal_as(portal_app, world.staff_y).get("/pension/?name=退役金张", expect=200).get_data(as_text=True)
    assert f"/pension/veterans/{veteran.id}" not in html
