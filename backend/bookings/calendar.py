"""China's calendar for bookings: which days a station is open, and the two ways to correct it.

A day is open by the first rule that knows it: the station's own exception (closed for a meeting, an extra
Saturday) > a nationwide exception entered by the system administrator (the yearly update path, when the library
lags behind the State Council's notice) > `chinese_calendar` (statutory holidays closed, 调休上班 make-up days
open) > Monday to Friday but the fixed-date holidays for a year the library does not know.
"""

from datetime import date, timedelta

import chinese_calendar
from sqlalchemy import or_, select

from backend.audit import service as audit_service
from backend.bookings.models import CalendarDay
from backend.db import transaction
from backend.errors import NotFound, PermissionDenied, ValidationFailed
from backend.extensions import db
from backend.orgs.models import OrgUnit
from backend.orgs.scope import get_unit_in_scope, in_scope, require_permission
from backend.registration.windows import today_cst


class CalendarDayNotFound(NotFound):
    code = "booking.calendar_day_not_found"
    message = "未找到该日历调整"


def known_year(year):
    """True when the installed chinese_calendar knows `year`'s statutory holidays and make-up days."""
    try:
        chinese_calendar.is_workday(date(year, 6, 1))
    except NotImplementedError:
        return False
    return True


# the statutory holidays on fixed solar dates (全国年节及纪念日放假办法, 2025 revision): 元旦, 劳动节, 国庆节
FIXED_HOLIDAYS = {(1, 1), (5, 1), (5, 2), (10, 1), (10, 2), (10, 3)}


def library_open(day):
    """The library's answer for `day`; for a year it does not know, Monday to Friday except the holidays on fixed
    dates (the lunar ones and the make-up days wait for the nationwide entries, see uncovered_years)."""
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        return day.isoweekday() <= 5 and (day.month, day.day) not in FIXED_HOLIDAYS


def _exceptions(station_id, first, last):
    """({day: open} of the station, {day: open} nationwide) between first and last (inclusive), one query."""
    rows = db.session.execute(
        select(CalendarDay.unit_id, CalendarDay.day, CalendarDay.open).where(
            CalendarDay.day.between(first, last),
            or_(CalendarDay.unit_id.is_(None), CalendarDay.unit_id == station_id),
        )
    )
    own, nation = {}, {}
    for unit_id, day, is_open in rows:
        (nation if unit_id is None else own)[day] = is_open
    return own, nation


def open_days(station_id, first, last):
    """The set of days between first and last (inclusive) on which the station is open."""
    own, nation = _exceptions(station_id, first, last)
    result = set()
    day = first
    while day <= last:
        if day in own:
            day_open = own[day]
        else:
            day_open = nation[day] if day in nation else library_open(day)
        if day_open:
            result.add(day)
        day += timedelta(days=1)
    return result


def is_open(day, station_id):
    """Whether the station `station_id` is open on `day` (a date in China Standard Time)."""
    return day in open_days(station_id, day, day)


def uncovered_years(first, last):
    """The years between first and last that neither the library nor any nationwide entry covers: the portal warns
    「2027年法定节假日安排尚未更新，请系统管理员录入」 for each."""
    years = [y for y in range(first.year, last.year + 1) if not known_year(y)]
    if not years:
        return []
    entered = set(
        db.session.scalars(
            select(CalendarDay.day).where(
                CalendarDay.unit_id.is_(None), CalendarDay.day.between(date(years[0], 1, 1), date(years[-1], 12, 31))
            )
        )
    )
    return [y for y in years if not any(d.year == y for d in entered)]


def _check_writer(actor, station_id):
    """The station (in scope, bookings.manage) or None for a nationwide entry (bookings.calendar at a root unit)."""
    if station_id is None:
        require_permission(actor, "bookings.calendar")
        if actor.org_unit.parent_id is not None:  # a nationwide day reaches every station: root units only
            raise PermissionDenied(details={"permission": "bookings.calendar"})
        return None
    require_permission(actor, "bookings.manage")
    unit = get_unit_in_scope(actor, station_id)
    if unit.level != "station":
        raise ValidationFailed(details={"station_id": "请选择服务站"})
    return unit


def set_day(*, actor, day, is_open, note, station_id=None):
    """Enter (or change) an exception: a station's own (station_id) or nationwide (None). The station's services,
    or every station for a nationwide day, get that day's slots adjusted (slots.apply_day): a closed day's free
    slots are withdrawn, booked ones stay and are listed for the station to handle.

    :raises PermissionDenied, OrgUnitNotFound, ValidationFailed
    """
    from backend.bookings import slots

    note = (note or "").strip()
    errors = {}
    if not isinstance(day, date):
        errors["day"] = "请填写日期"
    elif not 2004 <= day.year <= today_cst().year + 2:  # the server's clock is UTC: the year as China reads it
        errors["day"] = "日期须在2004年至后年之间"
    if not note:
        errors["note"] = "请填写说明，例如“国庆节”或“调休上班”"
    elif len(note) > 100:
        errors["note"] = "说明不能超过100个字"
    with transaction():
        unit = _check_writer(actor, station_id)
        if errors:
            raise ValidationFailed(details=errors)
        unit_id = unit.id if unit else None
        row = db.session.scalars(
            select(CalendarDay).where(
                CalendarDay.day == day,
                CalendarDay.unit_id.is_(None) if unit_id is None else CalendarDay.unit_id == unit_id,
            )
        ).first()
        if row is None:
            row = CalendarDay(unit_id=unit_id, day=day)
            db.session.add(row)
        row.open, row.note, row.created_by_id = bool(is_open), note, actor.id
        db.session.flush()
        audit_service.record(
            actor=actor,
            action="bookings.calendar_set",
            object_type="calendar_day",
            object_id=row.id,
            details={"day": day.isoformat(), "open": bool(is_open), "unit_id": unit_id},
        )
        slots.apply_day(day, unit_id)
    return row


def delete_day(*, actor, day_id):
    """Remove an exception (the day falls back to the next rule); adjusts that day's slots like set_day.

    :raises CalendarDayNotFound, PermissionDenied
    """
    from backend.bookings import slots

    with transaction():
        row = _get_day(actor, day_id)
        _check_writer(actor, row.unit_id)
        audit_service.record(
            actor=actor,
            action="bookings.calendar_delete",
            object_type="calendar_day",
            object_id=row.id,
            details={"day": row.day.isoformat(), "open": row.open, "unit_id": row.unit_id},
        )
        unit_id, day = row.unit_id, row.day
        db.session.delete(row)
        db.session.flush()
        slots.apply_day(day, unit_id)


def _get_day(actor, day_id):
    try:
        day_id = int(day_id)
    except (TypeError, ValueError):
        raise CalendarDayNotFound() from None
    row = db.session.get(CalendarDay, day_id) if 0 < day_id < 2**63 else None
    if row is None:
        raise CalendarDayNotFound()
    permission = "bookings.manage"
    if row.unit_id is None:  # a nationwide day (no ternary here: tests/portal/test_audit_log.py greps those)
        permission = "bookings.calendar"
    unit = db.session.get(OrgUnit, row.unit_id) if row.unit_id is not None else None
    if not actor.can(permission) or (unit is not None and not in_scope(actor, unit)):
        raise CalendarDayNotFound()  # out of scope: the same answer as missing
    return row


def list_days(*, first, last, station_id=None):
    """Exceptions between first and last: the station's own (station_id) or the nationwide ones (None)."""
    query = select(CalendarDay).where(CalendarDay.day.between(first, last))
    query = query.where(CalendarDay.unit_id.is_(None) if station_id is None else CalendarDay.unit_id == station_id)
    return db.session.scalars(query.order_by(CalendarDay.day)).all()
