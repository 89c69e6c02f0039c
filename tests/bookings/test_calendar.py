"""China's calendar for bookings (backend/bookings/calendar.py): station exception > nationwide entry >
chinese_calendar (statutory holidays, 调休上班) > Monday to Friday for a year the library does not know."""

from datetime import date

import chinese_calendar
import pytest

from backend.audit.models import AuditLog
from backend.bookings import calendar
from backend.errors import PermissionDenied
from backend.extensions import db
from backend.orgs.scope import OrgUnitNotFound

NATIONAL_DAY = date(2026, 10, 1)  # a Thursday, 国庆节
MAKE_UP_DAY = date(2026, 10, 10)  # a Saturday, 调休上班 after 国庆节


def test_a_statutory_holiday_is_closed(world):
    assert NATIONAL_DAY.isoweekday() == 4
    assert not calendar.is_open(NATIONAL_DAY, world.x1.id)


def test_a_make_up_working_day_on_a_weekend_is_open(world):
    assert MAKE_UP_DAY.isoweekday() == 6 and chinese_calendar.is_workday(MAKE_UP_DAY)
    assert calendar.is_open(MAKE_UP_DAY, world.x1.id)
    assert not calendar.is_open(date(2026, 10, 17), world.x1.id)  # an ordinary Saturday


def test_a_station_exception_opens_a_holiday_and_closes_a_working_day(world):
    calendar.set_day(actor=world.staff_x, day=NATIONAL_DAY, is_open=True, note="国庆值班", station_id=world.x1.id)
    calendar.set_day(
        actor=world.staff_x, day=date(2026, 11, 30), is_open=False, note="全天会议", station_id=world.x1.id
    )
    assert calendar.is_open(NATIONAL_DAY, world.x1.id)
    assert not calendar.is_open(date(2026, 11, 30), world.x1.id)
    assert not calendar.is_open(NATIONAL_DAY, world.y1.id)  # another station keeps the national calendar
    assert calendar.is_open(date(2026, 11, 30), world.y1.id)


def test_setting_a_day_again_changes_it_and_is_audited(world):
    calendar.set_day(actor=world.staff_x, day=date(2026, 12, 5), is_open=True, note="加开", station_id=world.x1.id)
    row = calendar.set_day(
        actor=world.staff_x, day=date(2026, 12, 5), is_open=False, note="取消加开", station_id=world.x1.id
    )
    assert calendar.list_days(first=date(2026, 12, 1), last=date(2026, 12, 31), station_id=world.x1.id) == [row]
    assert not calendar.is_open(date(2026, 12, 5), world.x1.id)
    actions = db.session.scalars(db.select(AuditLog.action).where(AuditLog.object_id == str(row.id))).all()
    assert actions.count("bookings.calendar_set") == 2


def test_an_unknown_year_falls_back_to_weekdays_plus_nationwide_entries(world):
    assert not calendar.known_year(2027) and calendar.known_year(2026)
    assert calendar.is_open(date(2027, 2, 10), world.x1.id)  # a Wednesday
    assert not calendar.is_open(date(2027, 2, 13), world.x1.id)  # a Saturday
    assert calendar.uncovered_years(date(2026, 12, 1), date(2027, 1, 30)) == [2027]
    calendar.set_day(actor=world.sys_admin, day=date(2027, 2, 10), is_open=False, note="春节")
    calendar.set_day(actor=world.sys_admin, day=date(2027, 2, 13), is_open=True, note="调休上班")
    assert not calendar.is_open(date(2027, 2, 10), world.x1.id)
    assert calendar.is_open(date(2027, 2, 13), world.y1.id)
    assert calendar.uncovered_years(date(2026, 12, 1), date(2027, 1, 30)) == []


def test_a_station_exception_beats_a_nationwide_entry(world):
    calendar.set_day(actor=world.sys_admin, day=date(2027, 2, 11), is_open=False, note="春节")
    calendar.set_day(actor=world.staff_x, day=date(2027, 2, 11), is_open=True, note="值班", station_id=world.x1.id)
    assert calendar.is_open(date(2027, 2, 11), world.x1.id)
    assert not calendar.is_open(date(2027, 2, 11), world.y1.id)


def test_deleting_an_exception_restores_the_next_rule(world):
    row = calendar.set_day(actor=world.staff_x, day=NATIONAL_DAY, is_open=True, note="值班", station_id=world.x1.id)
    calendar.delete_day(actor=world.staff_x, day_id=row.id)
    assert not calendar.is_open(NATIONAL_DAY, world.x1.id)


def test_nationwide_days_need_the_calendar_permission_at_a_root_unit(world):
    with pytest.raises(PermissionDenied):
        calendar.set_day(actor=world.staff_x, day=date(2027, 1, 1), is_open=False, note="元旦")
    with pytest.raises(PermissionDenied):
        calendar.set_day(actor=world.sys_admin_y, day=date(2027, 1, 1), is_open=False, note="元旦")


def test_a_station_outside_the_scope_is_not_found(world):
    with pytest.raises(OrgUnitNotFound):
        calendar.set_day(actor=world.staff_y, day=NATIONAL_DAY, is_open=True, note="值班", station_id=world.x1.id)
    row = calendar.set_day(actor=world.staff_x, day=NATIONAL_DAY, is_open=True, note="值班", station_id=world.x1.id)
    with pytest.raises(calendar.CalendarDayNotFound):
        calendar.delete_day(actor=world.staff_y, day_id=row.id)
