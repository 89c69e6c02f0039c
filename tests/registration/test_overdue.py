"""Issue 10, overdue slice: an overdue veteran catches up after an extension (phone and on-site, prefilled like a
draft), a section a return did not reopen is 409 not_editable, and the window form only ever extends, in scope."""

import io
from datetime import date

import pytest
from freezegun import freeze_time
from sqlalchemy import select

from backend.db import transaction
from backend.errors import ValidationFailed
from backend.extensions import db
from backend.orgs.scope import OrgUnitNotFound
from backend.registration import jobs, review, service, windows
from backend.registration.models import Registration, RegistrationEvent, RegistrationWindow
from tests.api.helpers import bound_client
from tests.factories import create_staff, create_trip, create_unit, create_veteran
from tests.helpers import portal_as
from tests.registration.helpers import FULL, account_for

AFTER_CLOSE = "2027-04-02 02:00:00"  # 10:00 CST on 2 April 2027: the default window closed on 31 March
IN_WINDOW = "2027-02-01 02:00:00"
LAST_YEAR = {**FULL, "employment": {"status": "self_employed", "employer": "秦川物流公司"}}
TRIP = {"destination": "日本", "from": "2026-07-01", "to": "2026-07-09"}


def _approved_last_year(veteran):
    with transaction():
        db.session.add(
            Registration(
                veteran_id=veteran.id,
                unit_id=veteran.unit_id,
                year=2026,
                status="approved",
                content=LAST_YEAR,
                return_reasons={},
            )
        )


def _reported_trip(veteran):
    create_trip(
        veteran,
        status="returned",
        planned_departure=date(2026, 7, 1),
        planned_return=date(2026, 7, 9),
        departed_on=date(2026, 7, 1),
        returned_on=date(2026, 7, 9),
    )


@pytest.fixture
def overdue(world):
    """A veteran of county X with last year's approval and a reported trip, marked overdue after the close."""
    veteran = create_veteran(station=world.x1, grid=world.x1_grid)
    _approved_last_year(veteran)
    _reported_trip(veteran)
    with freeze_time(AFTER_CLOSE):
        jobs.mark_overdue()
    return veteran


def _extend(world, unit, closes_on=date(2027, 4, 30)):
    return windows.set_window(actor=world.sys_admin, year=2027, closes_on=closes_on, unit_id=unit.id)


# --- the overdue path, service level ---


def test_overdue_veteran_catches_up_on_the_phone_once_the_window_is_extended(world, overdue):
    account = account_for(overdue)
    with freeze_time(AFTER_CLOSE):
        view = service.current_view(veteran=overdue)
        assert (view["status"], view["window_open"], view["editable"]) == ("overdue", False, False)
        with pytest.raises(service.WindowClosed):
            service.save_draft(account=account, content={"declaration": {"agreed": True}})
        _extend(world, world.x)
        view = service.current_view(veteran=overdue)
        assert (view["status"], view["window_open"], view["editable"]) == ("overdue", True, True)
        assert view["prefilled_from_year"] == 2026
        content = view["content"]
        assert content["employment"] == LAST_YEAR["employment"] and "declaration" not in content
        assert content["trips_abroad"] == {"had_trips": True, "trips": [TRIP]}
        assert content["contact"]["phone"] == overdue.phone
        reg = service.save_draft(account=account, content={"declaration": {"agreed": True}})
        assert reg.status == "overdue" and reg.content["employment"] == LAST_YEAR["employment"]
        assert reg.content["trips_abroad"]["trips"] == [TRIP]
        assert service.submit(account=account).status == "submitted"
    actions = db.session.scalars(
        select(RegistrationEvent.action)
        .where(RegistrationEvent.registration_id == reg.id)
        .order_by(RegistrationEvent.id)
    ).all()
    assert actions == ["overdue", "submitted"]


def test_the_extension_must_cover_the_veterans_unit(world, overdue):
    elsewhere = create_veteran(station=world.y1)
    with freeze_time(AFTER_CLOSE):
        jobs.mark_overdue()
        _extend(world, world.x1)  # the station: its grid's veterans are covered
        service.save_draft(account=account_for(overdue), content={"declaration": {"agreed": True}})
        with pytest.raises(service.WindowClosed):
            service.save_draft(account=account_for(elsewhere), content={"declaration": {"agreed": True}})
        assert service.current_view(veteran=elsewhere)["editable"] is False


def test_an_overdue_draft_keeps_its_own_answers(world):
    veteran = create_veteran(station=world.x1)
    _approved_last_year(veteran)
    account = account_for(veteran)
    with freeze_time(IN_WINDOW):
        service.save_draft(account=account, content={"employment": {"status": "retired", "employer": ""}})
    with freeze_time(AFTER_CLOSE):
        jobs.mark_overdue()
        _extend(world, world.x)
        view = service.current_view(veteran=veteran)
        assert view["status"] == "overdue" and view["prefilled_from_year"] is None
        assert view["content"]["employment"] == {"status": "retired", "employer": ""}
        service.save_draft(account=account, content={k: FULL[k] for k in ("social_orgs", "declaration")})
        reg = service.submit(account=account)
    assert reg.status == "submitted" and reg.content["employment"]["status"] == "retired"


def test_onsite_entry_for_an_overdue_veteran_starts_from_last_year(world, overdue):
    with freeze_time("2027-06-01 02:00:00"):  # on-site needs no extension
        reg = service.enter_onsite(
            actor=world.staff_x, veteran_id=overdue.id, content={"declaration": {"agreed": True}}, submit_now=True
        )
    assert (reg.status, reg.channel, reg.entered_by_id) == ("submitted", "onsite", world.staff_x.id)
    assert reg.content["employment"] == LAST_YEAR["employment"] and reg.content["trips_abroad"]["trips"] == [TRIP]


# --- sections a return did not reopen ---


@pytest.fixture
def returned(world):
    veteran = create_veteran(station=world.x1)
    account = account_for(veteran)
    with freeze_time(IN_WINDOW):
        service.save_draft(account=account, content=FULL)
        reg = service.submit(account=account)
        review.return_for_correction(
            actor=world.staff_x,
            registration_id=reg.id,
            expected_version=reg.version_id,
            reasons={"employment": "请填写单位全称"},
        )
    return veteran, account, reg


@freeze_time(IN_WINDOW)
def test_a_section_not_reopened_is_409_not_editable(returned):
    veteran, account, reg = returned
    with pytest.raises(service.NotEditable) as err:
        service.save_draft(account=account, content={"party_life": {"participated": False, "notes": ""}})
    assert err.value.status == 409 and set(err.value.details) == {"party_life"}
    with pytest.raises(ValidationFailed):  # an unknown section is still a validation failure
        service.save_draft(account=account, content={"nope": {}})
    # the whole form sent back with only the reopened section changed is fine
    fixed = {**FULL, "employment": {"status": "employed", "employer": "青山机械制造有限公司"}}
    service.save_draft(account=account, content=fixed)
    assert reg.content["employment"]["employer"] == "青山机械制造有限公司"
    assert service.submit(account=account).status == "submitted"
    with pytest.raises(service.NotEditable):
        service.save_draft(account=account, content={"employment": FULL["employment"]})


def test_phone_locked_section_answers_409_not_editable(api_app, fake_wechat, world):
    with freeze_time(IN_WINDOW):
        veteran = create_veteran(station=world.x1)
        client = bound_client(api_app, fake_wechat, veteran)
        client.call("PUT", "/v1/registrations/current", json={"content": FULL}, expect=200)
        reg_id = client.post("/v1/registrations/current/submit", expect=200).get_json()["registration_id"]
        reg = db.session.get(Registration, reg_id)
        review.return_for_correction(
            actor=world.staff_x, registration_id=reg_id, expected_version=reg.version_id, reasons={"contact": "x"}
        )
        body = client.call(
            "PUT",
            "/v1/registrations/current",
            json={"content": {"employment": {"status": "retired", "employer": ""}}},
            expect=409,
        ).get_json()
        assert body["error"]["code"] == "registration.not_editable" and "employment" in body["error"]["details"]
        upload = client.client.post(
            "/v1/registrations/current/attachments",
            data={"section": "employment", "file": (io.BytesIO(png_bytes()), "a.png")},
            headers={"Authorization": f"Bearer {client.token}"},
            content_type="multipart/form-data",
        )
        assert upload.status_code == 409 and upload.get_json()["error"]["code"] == "registration.not_editable"
        new_contact = {"phone": "13900002222", "address": "青山镇2号"}
        client.call("PUT", "/v1/registrations/current", json={"content": {"contact": new_contact}}, expect=200)


def png_bytes():
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(out, format="PNG")
    return out.getvalue()


# --- the phone, end to end ---


def test_phone_overdue_veteran_saves_and_submits_after_an_extension(api_app, fake_wechat, world, overdue):
    with freeze_time(AFTER_CLOSE):
        client = bound_client(api_app, fake_wechat, overdue)
        client.call("PUT", "/v1/registrations/current", json={"content": {"declaration": {"agreed": True}}}, expect=409)
        _extend(world, world.x)
        current = client.get("/v1/registrations/current", expect=200).get_json()
        assert (current["status"], current["window_open"], current["editable"]) == ("overdue", True, True)
        assert current["content"]["employment"] == LAST_YEAR["employment"]
        assert current["content"]["trips_abroad"]["trips"] == [TRIP] and current["prefilled_from_year"] == 2026
        client.post("/v1/registrations/current/submit", expect=422)  # nothing saved yet: the declaration is missing
        saved = client.call(
            "PUT", "/v1/registrations/current", json={"content": {"declaration": {"agreed": True}}}, expect=200
        ).get_json()
        assert saved["status"] == "overdue" and saved["content"]["employment"] == LAST_YEAR["employment"]
        done = client.post("/v1/registrations/current/submit", expect=200).get_json()
        assert done["status"] == "submitted" and done["editable"] is False


# --- the window: only ever extended, for any unit in scope ---


def test_a_date_that_shortens_the_window_is_refused(world):
    _extend(world, world.x, date(2027, 4, 30))
    for unit, closes_on in ((world.x, date(2027, 4, 15)), (world.x1, date(2027, 4, 20)), (None, date(2027, 3, 15))):
        with pytest.raises(ValidationFailed) as err:
            windows.set_window(actor=world.sys_admin, year=2027, closes_on=closes_on, unit_id=unit.id if unit else None)
        assert "不能早于" in err.value.details["closes_on"]
    _extend(world, world.x, date(2027, 4, 30))  # the same date again is fine
    windows.set_window(actor=world.sys_admin, year=2027, closes_on=date(2027, 5, 31))  # system-wide, later
    # the most generous window covering the unit applies: the later system-wide date is not cut by X's own row
    assert windows.window_for(2027, world.x1).closes_on == date(2027, 5, 31)
    assert windows.window_for(2027, world.y1).closes_on == date(2027, 5, 31)


def test_window_extension_respects_data_scope(world):
    with pytest.raises(OrgUnitNotFound):
        windows.set_window(actor=world.sys_admin_y, year=2027, closes_on=date(2027, 4, 30), unit_id=world.x.id)
    row = windows.set_window(actor=world.sys_admin_y, year=2027, closes_on=date(2027, 4, 30))
    assert row.unit_id == world.y.id  # a non-root administrator's default is their own subtree
    offered = {u.id for u in windows.extension_units(actor=world.sys_admin_y)}
    assert offered == {world.y.id, world.y1.id}
    every = {u.id for u in windows.extension_units(actor=world.sys_admin)}
    assert {world.city.id, world.x.id, world.y.id, world.x1.id, world.y1.id} <= every
    assert world.x1_grid.id not in every


# --- the portal ---


def test_portal_onsite_form_for_an_overdue_veteran_is_prefilled(portal_app, world, overdue):
    with freeze_time("2027-06-01 02:00:00"):
        clerk = create_staff(unit=world.x1, roles=("station_staff",))  # a password set now has not expired
        portal = portal_as(portal_app, clerk)
        page = portal.get(f"/registration/onsite/{overdue.id}", expect=200).get_data(as_text=True)
        assert 'data-testid="overdue-note"' in page and "秦川物流公司" in page
        assert '<option value="日本" selected>' in page  # the trip row, both dates (issue 11)
        assert 'value="2026-07-01"' in page and 'value="2026-07-09"' in page
        form = {
            "party_participated": "1",
            "party_notes": "按时参加",
            "organizations": "",
            "trip_destination": ["日本", ""],  # trip rows (issue 11): a blank row is no trip
            "trip_from": ["2026-07-01", ""],
            "trip_to": ["2026-07-09", ""],
            "rewards": "",
            "employment_status": "self_employed",
            "employer": "秦川物流公司",
            "phone": "",
            "address": "青山镇1号",
            "declaration": "1",
            "action": "submit",
        }
        portal.post(f"/registration/onsite/{overdue.id}", data=form, expect=302)
    reg = db.session.scalars(
        select(Registration).where(Registration.veteran_id == overdue.id, Registration.year == 2027)
    ).one()
    assert (reg.status, reg.channel, reg.entered_by_id) == ("submitted", "onsite", clerk.id)
    assert reg.content["contact"]["phone"] == overdue.phone  # a blank phone keeps the prefilled one
    assert reg.content["trips_abroad"]["trips"] == [TRIP]


def test_portal_onsite_correction_changes_only_reopened_sections(portal_app, world, returned):
    veteran, _, reg = returned
    with freeze_time(IN_WINDOW):
        portal = portal_as(portal_app, world.staff_x)
        page = portal.get(f"/registration/onsite/{veteran.id}", expect=200).get_data(as_text=True)
        assert 'data-testid="reopened-note"' in page
        form = {"employment_status": "employed", "employer": "青山机械制造有限公司", "party_participated": "0"}
        form["declaration"] = "1"  # issue 11: a submission is declared again at the counter, never carried over
        portal.post(f"/registration/onsite/{veteran.id}", data={**form, "action": "submit"}, expect=302)
    db.session.expire_all()
    reg = db.session.get(Registration, reg.id)
    assert reg.status == "submitted" and reg.content["employment"]["employer"] == "青山机械制造有限公司"
    assert reg.content["party_life"] == FULL["party_life"]  # not reopened: untouched


def test_portal_window_form_offers_units_in_scope_and_refuses_shortening(portal_app, world):
    portal = portal_as(portal_app, world.sys_admin)
    page = portal.get("/registration/windows?year=2027", expect=200).get_data(as_text=True)
    for unit in (world.city, world.x, world.y, world.x1, world.y1):
        assert f'<option value="{unit.id}"' in page
    assert f'<option value="{world.x1_grid.id}"' not in page
    refused = portal.post("/registration/windows?year=2027", data={"closes_on": "2027-03-20", "unit_id": world.x.id})
    assert refused.status_code == 422 and "办理时间只能延长，不能缩短" in refused.get_data(as_text=True)
    missing = portal.post("/registration/windows?year=2027", data={"closes_on": "", "unit_id": world.x.id})
    assert missing.status_code == 422 and "请选择截止日期" in missing.get_data(as_text=True)
    portal.post("/registration/windows?year=2027", data={"closes_on": "2027-04-30", "unit_id": world.x1.id}, expect=302)
    row = db.session.scalars(select(RegistrationWindow).where(RegistrationWindow.unit_id == world.x1.id)).one()
    assert row.closes_on == date(2027, 4, 30)
    portal.post("/registration/windows?year=2027", data={"closes_on": "2027-04-30", "unit_id": "abc"}, expect=404)
    portal.get("/registration/windows?year=99999", expect=200)  # an impossible year falls back to this one
    portal_as(portal_app, world.staff_x).get("/registration/?year=-5", expect=200)

    county_admin = portal_as(portal_app, world.sys_admin_y)
    page = county_admin.get("/registration/windows?year=2027", expect=200).get_data(as_text=True)
    assert f'<option value="{world.y1.id}"' in page and f'<option value="{world.x.id}"' not in page
    county_admin.post(
        "/registration/windows?year=2027", data={"closes_on": "2027-04-30", "unit_id": world.x.id}, expect=404
    )


def test_a_new_station_is_offered_too(portal_app, world):
    station = create_unit(parent=world.y, name="新设服务站")
    page = portal_as(portal_app, world.sys_admin_y).get("/registration/windows", expect=200).get_data(as_text=True)
    assert f'<option value="{station.id}"' in page and "新设服务站" in page


def test_the_overdue_job_survives_a_row_made_meanwhile(world):
    """insert_once: a registration that appears between the job's read and its insert is left alone."""
    veteran = create_veteran(station=world.x1)
    with freeze_time(AFTER_CLOSE):
        values = {
            "veteran_id": veteran.id,
            "unit_id": veteran.unit_id,
            "year": 2027,
            "status": "draft",
            "channel": "onsite",
            "return_reasons": {},
        }
        with transaction():
            assert service.insert_once(values) is not None
            assert service.insert_once(values) is None  # a conflict answers None, never a unique violation
    assert db.session.scalars(select(Registration).where(Registration.veteran_id == veteran.id)).one().status == (
        "draft"
    )
