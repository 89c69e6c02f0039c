"""The catalog (backend/bookings/catalog.py) and its portal pages (admin_portal/bookings/catalog_views.py):
validation in Chinese, optimistic versions, defaults, scope, audit, the calendar page."""

from datetime import date

import pytest
from sqlalchemy import select

from backend.audit.models import AuditLog
from backend.bookings import catalog
from backend.bookings.models import BookingService
from backend.errors import StaleUpdate, ValidationFailed
from backend.extensions import db
from backend.orgs.scope import OrgUnitNotFound
from tests.bookings.test_slots import make_service, values
from tests.helpers import portal_as


def test_validation_errors_are_in_chinese_per_field(world):
    bad = values(
        name="", slot_minutes="3", capacity="0", book_ahead_days="999", cutoff_minutes="x",
        plan={"1": ["9点到12点"], "2": ["14:00-12:00"], "3": ["09:00-12:00", "11:00-13:00"], "4": ["a", "b", "c", "d"],
              "5": ["09:00-12:00", "13:00-14:00", "15:00-16:00", "16:00-17:00"]},
    )  # fmt: skip
    with pytest.raises(ValidationFailed) as caught:
        catalog.create_service(actor=world.staff_x, station_id=world.x1.id, values=bad)
    errors = caught.value.details
    assert errors["name"] == "请填写服务名称"
    assert "5至480" in errors["slot_minutes"] and "1至500" in errors["capacity"]
    assert "1至60" in errors["book_ahead_days"] and "cutoff_minutes" in errors
    assert "格式应为 09:00-12:00" in errors["plan-1"]
    assert errors["plan-2"] == "周二的时段结束时间须晚于开始时间"
    assert errors["plan-3"] == "周三的时段不能重叠"
    assert errors["plan-5"] == "周五最多3个时段"


def test_a_plan_needs_one_period_and_periods_at_least_one_slot_long(world):
    with pytest.raises(ValidationFailed) as caught:
        catalog.create_service(actor=world.staff_x, station_id=world.x1.id, values=values(plan={}))
    assert caught.value.details == {"plan": "请至少填写一个开放时段"}
    with pytest.raises(ValidationFailed) as caught:
        make_service(world, plan={"1": ["09:00-09:30"]}, slot_minutes="45")
    assert "短于每个号源的时长" in caught.value.details["plan-1"]


def test_create_normalises_and_audits(world):
    service = make_service(world, plan={"1": ["14：00－17:00", " 09:00 - 12:00 "]}, materials=" 身份证 \n\n退役证\n")
    assert service.plan["1"] == [["09:00", "12:00"], ["14:00", "17:00"]] and service.plan["7"] == []
    assert service.materials == "身份证\n退役证"
    assert (
        db.session.scalar(
            select(AuditLog.action).where(
                AuditLog.object_type == "booking_service", AuditLog.object_id == str(service.id)
            )
        )
        == "bookings.service_create"
    )
    with pytest.raises(ValidationFailed) as caught:
        make_service(world)
    assert caught.value.details == {"name": "本站已有同名服务"}


def test_an_edit_from_an_old_version_is_refused(world):
    service = make_service(world)
    catalog.update_service(actor=world.staff_x, service_id=service.id, version=1, values=values(location="2号窗口"))
    with pytest.raises(StaleUpdate):
        catalog.update_service(actor=world.staff_x, service_id=service.id, version=1, values=values(capacity="9"))


def test_another_stations_service_is_not_found(world):
    service = make_service(world)
    with pytest.raises(catalog.ServiceNotFound):
        catalog.get_service(actor=world.staff_y, service_id=service.id)
    with pytest.raises(OrgUnitNotFound):
        catalog.create_service(actor=world.staff_y, station_id=world.x1.id, values=values())


def test_defaults_only_for_a_station_without_services(world):
    created = catalog.add_default_services(actor=world.staff_x, station_id=world.x1.id)
    assert [s.name for s in created] == ["档案查阅", "证明开具", "政策咨询", "就业指导", "帮扶申请", "心理疏导"]
    assert catalog.add_default_services(actor=world.staff_x, station_id=world.x1.id) == []
    assert len(catalog.services_for_station(world.x1.id)) == 6
    catalog.deactivate_service(actor=world.staff_x, service_id=created[0].id, version=created[0].version_id)
    assert "档案查阅" not in [s.name for s in catalog.services_for_station(world.x1.id)]


def test_portal_lists_edits_and_scopes_services(world, portal_app):
    client = portal_as(portal_app, world.staff_x)
    page = client.get(f"/bookings/catalog?station={world.x1.id}", expect=200).text
    assert "本站尚无服务项目" in page and "添加常用服务" in page
    client.post("/bookings/catalog/defaults", data={"station": world.x1.id}, expect=302)
    service = db.session.scalars(select(BookingService).where(BookingService.station_id == world.x1.id)).first()
    form = client.get(f"/bookings/catalog/{service.id}", expect=200).text
    assert "每周开放时段" in form and 'value="09:00-12:00"' in form
    data = {"version": service.version_id, "name": "档案查阅", "slot_minutes": "30", "capacity": "0"}
    data |= {"book_ahead_days": "14", "cutoff_minutes": "120", "plan-1-0": "09:00-12:00"}
    bad = client.post(f"/bookings/catalog/{service.id}", data=data, expect=422).text
    assert "每个号源可约人数须为1至500之间的整数" in bad
    client.post(f"/bookings/catalog/{service.id}", data={**data, "capacity": "4"}, expect=302)
    stale = client.post(f"/bookings/catalog/{service.id}", data={**data, "capacity": "6"}, expect=422).text
    assert "该信息刚被更新，请刷新后重试" in stale
    other = portal_as(portal_app, world.staff_y)
    other.get(f"/bookings/catalog/{service.id}", expect=404)
    other.get(f"/bookings/catalog?station={world.x1.id}", expect=404)
    portal_as(portal_app, world.supervisor_parent).get("/bookings/catalog", expect=403)


def test_portal_new_service_form(world, portal_app):
    client = portal_as(portal_app, world.staff_x)
    assert "新增服务项目" in client.get(f"/bookings/catalog/new?station={world.x1.id}", expect=200).text
    data = {"station": world.x1.id, "name": "政策咨询", "slot_minutes": "20", "capacity": "2"}
    data |= {"book_ahead_days": "7", "cutoff_minutes": "60", "plan-3-0": "09:00-11:00", "plan-3-1": "14:00-16:00"}
    response = client.post("/bookings/catalog/new", data=data, expect=302)
    service = db.session.scalars(select(BookingService).where(BookingService.name == "政策咨询")).one()
    assert response.headers["Location"].endswith(f"/bookings/catalog/{service.id}")
    assert service.plan["3"] == [["09:00", "11:00"], ["14:00", "16:00"]]


def test_portal_calendar_pages(world, portal_app):
    staff = portal_as(portal_app, world.staff_x)
    page = staff.get(f"/bookings/calendar?station={world.x1.id}&year=2026", expect=200).text
    assert "本站日历调整" in page and "全国法定节假日与调休调整" in page
    staff.post("/bookings/calendar", data={"station": world.x1.id, "day": "2026-10-01", "open": "1", "note": "值班"},
               expect=302)  # fmt: skip
    assert "值班" in staff.get(f"/bookings/calendar?station={world.x1.id}&year=2026", expect=200).text
    bad = staff.post("/bookings/calendar", data={"station": world.x1.id, "day": "", "note": ""}, expect=422).text
    assert "请填写日期" in bad
    staff.post("/bookings/calendar", data={"kind": "nation", "day": "2027-01-01", "note": "元旦"}, expect=403)
    admin = portal_as(portal_app, world.sys_admin)
    page = admin.get("/bookings/calendar?year=2027", expect=200).text
    assert "本站日历调整" not in page and "调休上班" in page
    admin.post("/bookings/calendar", data={"kind": "nation", "day": "2027-02-13", "open": "1", "note": "调休上班"},
               expect=302)  # fmt: skip
    assert "2027-02-13" in admin.get("/bookings/calendar?year=2027", expect=200).text
    portal_as(portal_app, world.auditor).get("/bookings/calendar", expect=403)


def test_the_portal_warns_when_the_library_lags(world, portal_app, monkeypatch):
    from backend.bookings import calendar

    monkeypatch.setattr(calendar, "known_year", lambda year: year < date.today().year)
    page = portal_as(portal_app, world.sys_admin).get("/bookings/calendar", expect=200).text
    assert f"{date.today().year}年法定节假日安排尚未更新，请系统管理员录入" in page


def test_the_service_page_lists_booked_slots_the_plan_dropped_with_a_counter_link(world, portal_app):
    from sqlalchemy import update

    from backend.bookings.models import Slot
    from backend.db import transaction
    from tests.bookings.test_slots import _next_open_day, slot_rows

    service = make_service(world, plan={str(d): ["09:00-10:00"] for d in range(1, 8)})
    day = _next_open_day(world, service)
    slot = slot_rows(service, day, day)[0]
    with transaction():
        db.session.execute(update(Slot).where(Slot.id == slot.id).values(booked=2))
    catalog.update_service(
        actor=world.staff_x, service_id=service.id, version=1, values=values(plan={"1": ["15:00-16:00"]})
    )
    page = portal_as(portal_app, world.staff_x).get(f"/bookings/catalog/{service.id}", expect=200).text
    assert "需处理的预约" in page and f"{day.isoformat()} 09:00-09:45" in page
    assert f"/bookings/counter?station={world.x1.id}&amp;day={day.isoformat()}" in page
    listing = portal_as(portal_app, world.staff_x).get(f"/bookings/catalog?station={world.x1.id}", expect=200).text
    assert "1 个时段需处理" in listing
