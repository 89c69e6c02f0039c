"""Issue 11, "nothing a clerk types is lost or invented": the on-site registration form (trip rows, a blank phone
keeps the one on file, no default for a required choice, every error beside its field at once with the input kept,
a submitted or approved registration read-only) and the counter trip form (errors beside fields, the tick kept)."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from backend.db import transaction
from backend.extensions import db
from backend.registration import review, service, windows
from backend.registration.models import Registration
from backend.travel.countries import DESTINATIONS
from backend.travel.models import Trip
from tests.factories import create_veteran
from tests.helpers import portal_as
from tests.registration.helpers import FULL

PHONE = "13912345678"


@pytest.fixture
def clerk(portal_app, world):
    return portal_as(portal_app, world.staff_x)


@pytest.fixture
def veteran(world):
    return create_veteran(station=world.x1, phone=PHONE)


def _url(veteran):
    return f"/registration/onsite/{veteran.id}"


def _form(**overrides):
    form = {
        "party_participated": "1",
        "party_notes": "按时参加",
        "organizations": "老兵志愿服务队",
        "trip_destination": ["日本", "泰国", ""],
        "trip_from": ["2026-05-01", "2026-08-03", ""],
        "trip_to": ["2026-05-10", "2026-08-09", ""],
        "rewards": "",
        "employment_status": "employed",
        "employer": "青山机械厂",
        "phone": "",
        "address": "青山镇1号",
        "declaration": "1",
        "action": "submit",
    }
    return {**form, **overrides}


def _reg(veteran):
    db.session.expire_all()
    return db.session.scalars(
        select(Registration).where(Registration.veteran_id == veteran.id, Registration.year == windows.today_cst().year)
    ).first()


def _errors(page):
    """{control id: message} of the errors shown beside controls."""
    return dict(re.findall(r'data-error-for="([^"]+)">([^<]+)<', page))


# --- trips as rows, round trip ---


def test_the_form_offers_trip_rows_from_the_country_list_with_date_pickers(clerk, veteran):
    page = clerk.get(_url(veteran), expect=200).get_data(as_text=True)
    assert 'name="trips"' not in page  # no free-text trip line any more
    assert page.count('name="trip_destination"') == 3  # a fixed set of rows without JavaScript
    assert page.count('type="date"') == 6 and page.count('name="trip_from"') == page.count('name="trip_to"') == 3
    for name in DESTINATIONS.values():
        assert f'<option value="{name}"' in page
    for i in range(3):
        assert f'<label class="form-label small mb-0" for="trip-{i}-destination">' in page
    assert "data-add-trip hidden" in page and "data-remove-trip hidden" in page  # shown by the script only
    assert "/static/js/trip_rows.js" in page
    script = clerk.get("/static/js/trip_rows.js", expect=200).get_data(as_text=True)
    assert "data-add-trip" in script


def test_two_trips_round_trip_exactly_and_a_blank_phone_keeps_the_one_on_file(clerk, veteran):
    response = clerk.post(_url(veteran), data=_form(action="save"), expect=302)
    assert "/registration/" in response.headers["Location"]
    reg = _reg(veteran)
    assert reg.status == "draft"
    assert reg.content["trips_abroad"] == {
        "had_trips": True,
        "trips": [
            {"destination": "日本", "from": "2026-05-01", "to": "2026-05-10"},
            {"destination": "泰国", "from": "2026-08-03", "to": "2026-08-09"},
        ],
    }
    assert reg.content["contact"]["phone"] == PHONE
    page = clerk.get(_url(veteran), expect=200).get_data(as_text=True)  # and back into the form, both dates too
    assert '<option value="日本" selected>' in page and '<option value="泰国" selected>' in page
    for day in ("2026-05-01", "2026-05-10", "2026-08-03", "2026-08-09"):
        assert f'value="{day}"' in page
    assert page.count('name="trip_destination"') == 3  # two filled rows and one blank to add another
    assert "139****5678" in page and "留空不变" in page
    clerk.post(_url(veteran), data=_form(), expect=302)
    reg = _reg(veteran)
    assert reg.status == "submitted" and reg.content["contact"]["phone"] == PHONE
    assert [t["to"] for t in reg.content["trips_abroad"]["trips"]] == ["2026-05-10", "2026-08-09"]


def test_a_blank_phone_keeps_the_record_phone_when_the_saved_answers_have_none(world, clerk, veteran):
    service.enter_onsite(
        actor=world.staff_x, veteran_id=veteran.id, content={"contact": {"phone": "", "address": "旧址"}}
    )
    clerk.post(_url(veteran), data=_form(action="save"), expect=302)
    assert _reg(veteran).content["contact"]["phone"] == PHONE
    clerk.post(_url(veteran), data=_form(action="save", phone="13800001111"), expect=302)
    assert _reg(veteran).content["contact"]["phone"] == "13800001111"  # a typed phone replaces it
    clerk.post(_url(veteran), data=_form(action="save"), expect=302)
    assert _reg(veteran).content["contact"]["phone"] == "13800001111"  # and is then the one kept


def test_a_destination_on_file_outside_the_list_is_shown_and_kept(world, clerk, veteran):
    legacy = {"destination": "冲绳（旧填报）", "from": "2025-03-01", "to": "2025-03-05"}
    service.enter_onsite(
        actor=world.staff_x, veteran_id=veteran.id, content={"trips_abroad": {"had_trips": True, "trips": [legacy]}}
    )
    page = clerk.get(_url(veteran), expect=200).get_data(as_text=True)
    assert '<option value="冲绳（旧填报）" selected>' in page
    form = _form(action="save", trip_destination=["冲绳（旧填报）"], trip_from=["2025-03-01"], trip_to=["2025-03-05"])
    clerk.post(_url(veteran), data=form, expect=302)
    assert _reg(veteran).content["trips_abroad"]["trips"] == [legacy]


def test_a_destination_not_in_the_list_is_refused_beside_its_row(clerk, veteran):
    form = _form(trip_destination=["日本", "火星"], trip_from=["2026-05-01", "2026-06-01"], trip_to=["2026-05-10", ""])
    response = clerk.post(_url(veteran), data=form, expect=422)
    errors = _errors(response.get_data(as_text=True))
    assert errors == {"trip-1-destination": "请选择目的地", "trip-1-to": "请填写入境日期"}
    assert _reg(veteran) is None


# --- an unanswered question never becomes an answer ---


def test_party_life_has_no_default_and_a_submission_without_it_is_refused_beside_it(clerk, veteran):
    page = clerk.get(_url(veteran), expect=200).get_data(as_text=True)
    assert not re.search(r'name="party_participated"[^>]*checked', page)
    form = _form()
    del form["party_participated"]
    response = clerk.post(_url(veteran), data=form, expect=422)
    assert set(_errors(response.get_data(as_text=True))) == {"party_participated"}
    assert _reg(veteran) is None  # nothing saved, least of all 未参加
    draft = {**form, "action": "save"}
    response = clerk.post(_url(veteran), data=draft, expect=422)  # a note typed without a choice is not dropped
    assert _errors(response.get_data(as_text=True)) == {"party_participated": "请选择是或否"}
    assert 'value="按时参加"' in response.get_data(as_text=True)
    clerk.post(_url(veteran), data={**draft, "party_notes": ""}, expect=302)
    assert "party_life" not in _reg(veteran).content  # a draft leaves it unanswered
    page = clerk.get(_url(veteran), expect=200).get_data(as_text=True)
    assert not re.search(r'name="party_participated"[^>]*checked', page)
    clerk.post(_url(veteran), data={**form, "party_participated": "0"}, expect=302)
    assert _reg(veteran).content["party_life"]["participated"] is False  # only when picked


def test_every_error_is_shown_beside_its_field_at_once_with_every_input_kept(clerk, veteran):
    form = _form(
        phone="12345",
        employment_status="",
        employer="秦川物流公司",
        trip_destination=["日本", "泰国", ""],
        trip_from=["2026-05-10", "", ""],
        trip_to=["2026-05-01", "2026-08-09", ""],
        organizations="老兵志愿服务队\n书法协会",
    )
    del form["party_participated"], form["declaration"]
    page = clerk.post(_url(veteran), data=form, expect=422).get_data(as_text=True)
    assert _errors(page) == {
        "party_participated": "请选择是或否",
        "phone": "手机号码应为11位，以13-19开头",
        "employment_status": "请选择就业情况",
        "trip-0-to": "入境日期不能早于出境日期",
        "trip-1-from": "请填写出境日期",
        "declaration": "请确认信息真实",
    }
    assert 'aria-describedby="phone-error' in page and 'id="phone-error"' in page
    assert 'value="12345"' in page and 'value="秦川物流公司"' in page and "老兵志愿服务队\n书法协会" in page
    assert '<option value="日本" selected>' in page and '<option value="泰国" selected>' in page
    assert 'value="2026-05-10"' in page and 'value="2026-08-09"' in page
    assert 'data-testid="error-summary"' in page and "有 6 处需要修改" in page
    assert "status" not in _errors(page) and "trips_abroad" not in page.split("<form")[0]
    assert _reg(veteran) is None
    form["declaration"] = "1"  # a ticked box stays ticked after an error
    page = clerk.post(_url(veteran), data=form, expect=422).get_data(as_text=True)
    assert re.search(r'id="declaration"[^>]*checked', page)


def test_a_returned_registration_keeps_its_locked_sections_on_show_after_an_error(world, clerk, veteran):
    reg = service.enter_onsite(actor=world.staff_x, veteran_id=veteran.id, content=FULL, submit_now=True)
    review.return_for_correction(
        actor=world.staff_x, registration_id=reg.id, expected_version=reg.version_id, reasons={"employment": "请补充"}
    )
    form = {"employment_status": "", "employer": "新单位", "declaration": "1", "action": "submit"}  # as a browser posts
    page = clerk.post(_url(veteran), data=form, expect=422).get_data(as_text=True)
    assert _errors(page) == {"employment_status": "请选择就业情况"}
    assert 'value="新单位"' in page  # the reopened section as typed
    assert 'value="按时参加"' in page and re.search(r'id="pp1"[^>]*checked', page)  # the others as saved, disabled
    assert page.count('<fieldset class="mb-3" disabled') >= 3
    clerk.post(_url(veteran), data={**form, "employment_status": "retired"}, expect=302)
    content = _reg(veteran).content
    assert content["employment"] == {"status": "retired", "employer": "新单位"}
    assert content["party_life"] == FULL["party_life"] and content["contact"] == FULL["contact"]


# --- submitted or approved: read-only, refused in Chinese ---


@pytest.mark.parametrize("final", ["submitted", "approved"])
def test_a_submitted_or_approved_registration_is_never_an_editable_form(world, clerk, veteran, final):
    reg = service.enter_onsite(actor=world.staff_x, veteran_id=veteran.id, content=FULL, submit_now=True)
    if final == "approved":
        review.approve(actor=world.staff_x, registration_id=reg.id, expected_version=reg.version_id)
    label = {"submitted": "待审核", "approved": "已通过"}[final]
    page = clerk.get(_url(veteran), expect=200).get_data(as_text=True)
    assert 'data-testid="onsite-form"' not in page and 'name="party_participated"' not in page
    assert f'data-testid="reg-status">{label}<' in page and "不能再修改" in page
    assert f'href="/registration/{reg.id}" data-testid="review-link"' in page
    assert "按时参加" in page and "青山机械厂" in page  # the answers, read-only
    before = _reg(veteran).content
    refused = clerk.post(_url(veteran), data=_form(employer="别的单位"), expect=409).get_data(as_text=True)
    assert "未保存" in refused and "不能再修改" in refused and label in refused
    assert "submitted" not in refused.replace('value="submit"', "") and "status：" not in refused
    assert _reg(veteran).content == before


# --- the counter trip form ---


def _trip_form(**overrides):
    today = windows.today_cst()
    form = {
        "channel": "counter",
        "destination": "TH",
        "purpose": "family",
        "document_type": "passport",
        "planned_departure": (today + timedelta(days=3)).isoformat(),
        "planned_return": (today + timedelta(days=9)).isoformat(),
        "consent": "1",
    }
    return {**form, **overrides}


def test_the_trip_form_shows_every_error_beside_its_field_and_keeps_the_tick(clerk, veteran):
    url = f"/travel/record/{veteran.id}"
    form = _trip_form(destination="", planned_return="", purpose_note="看望女儿")
    page = clerk.post(url, data=form, expect=422).get_data(as_text=True)
    assert _errors(page) == {"destination": "请从列表中选择目的地", "planned_return": "请填写计划返回日期"}
    assert re.search(r'id="consent"[^>]*checked', page)  # the consent tick survives the error
    assert '<option value="family" selected>' in page and 'value="看望女儿"' in page
    del form["consent"]  # fields and consent wrong together: both in one answer
    page = clerk.post(url, data=form, expect=422).get_data(as_text=True)
    assert set(_errors(page)) == {"destination", "planned_return", "consent"}
    page = clerk.post(url, data=_trip_form(consent=""), expect=422).get_data(as_text=True)
    assert set(_errors(page)) == {"consent"}  # consent alone
    assert db.session.scalars(select(Trip).where(Trip.veteran_id == veteran.id)).first() is None
    clerk.post(url, data=_trip_form(), expect=302)
    with transaction():
        assert db.session.scalars(select(Trip).where(Trip.veteran_id == veteran.id)).one()
