"""The counter: a station's bookings of one day, check-in by code, completion, no-shows, booking on a veteran's behalf
and station cancellations (a booking or a whole slot), which tell the veterans at once."""

import re
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from sqlalchemy import select, update

from backend import pii
from backend.audit import service as audit_service
from backend.bookings import blocks, catalog, slots
from backend.bookings import service as booking_service
from backend.bookings.models import Booking, BookingService, Slot
from backend.bookings.service import STATUS_LABELS, BookingNotFound, BookingStateInvalid, SlotNotFound
from backend.db import transaction, utcnow
from backend.errors import RuleViolation, ValidationFailed
from backend.extensions import db
from backend.notifications.events import notify
from backend.orgs.models import OrgUnit
from backend.orgs.scope import OrgUnitNotFound, get_scoped, get_unit_in_scope, require_permission
from backend.registration.windows import CST
from backend.staff.models import Staff
from backend.veterans.identity import parse_id_number
from backend.veterans.models import ID_CONTEXT, Veteran
from backend.veterans.queries import stations_in_scope
from backend.veterans.service import VeteranNotFound

CHECK_IN_EARLY = timedelta(hours=1)  # a veteran may check in from an hour before the slot, even the evening before
DAY_LIMIT = 5000  # a station's day is at most capacity x slots; this bound only guards against a runaway plan


class WrongDay(RuleViolation):
    code = "booking.wrong_day"
    message = "该预约不在今天，只能在预约当天（或开始前一小时内）签到"


class SlotNotEnded(RuleViolation):
    code = "booking.slot_not_ended"
    message = "预约时段结束后才能标记爽约"


@dataclass
class SlotRow:
    slot: Slot
    bookings: list = field(default_factory=list)  # [(Booking, Veteran)]


@dataclass
class ServiceDay:
    service: BookingService
    slots: list = field(default_factory=list)  # [SlotRow] in time order


def day_bounds(day):
    """[start, end) of a China Standard Time day, as aware datetimes."""
    start = datetime.combine(day, time.min, CST)
    return start, start + timedelta(days=1)


def cst_day(moment):
    return moment.astimezone(CST).date()


def resolve_station(actor, station_id=None):
    """The station the counter shows: `station_id` (a station in scope, else OrgUnitNotFound), or the actor's own
    station, or the first station in scope; None when the scope has no station."""
    if station_id:
        station = get_unit_in_scope(actor, station_id)
        if station.level != "station":
            raise OrgUnitNotFound()
        return station
    if actor.org_unit.level == "station":
        return actor.org_unit
    stations = stations_in_scope(actor)
    return stations[0] if stations else None


def station_day(*, actor, station, day):
    """The station's services with their slots of `day` (CST) and each slot's bookings with the veteran, grouped
    by service and slot time. Bounded: a station's day holds at most capacity x slots bookings.

    :raises PermissionDenied
    """
    require_permission(actor, "bookings.view")
    start, end = day_bounds(day)
    services = db.session.scalars(
        select(BookingService).where(BookingService.station_id == station.id).order_by(BookingService.id)
    ).all()
    day_slots = db.session.scalars(
        select(Slot)
        .where(Slot.station_id == station.id, Slot.starts_at >= start, Slot.starts_at < end)
        .order_by(Slot.service_id, Slot.starts_at)
        .limit(DAY_LIMIT)
    ).all()
    rows = db.session.execute(
        select(Booking, Veteran)
        .join(Veteran, Veteran.id == Booking.veteran_id)
        .where(Booking.station_id == station.id, Booking.starts_at >= start, Booking.starts_at < end)
        .order_by(Booking.starts_at, Booking.id)
        .limit(DAY_LIMIT)
    ).all()
    by_slot = {s.id: SlotRow(s) for s in day_slots}
    for booking, veteran in rows:
        if booking.slot_id in by_slot:
            by_slot[booking.slot_id].bookings.append((booking, veteran))
    days = {s.id: ServiceDay(s) for s in services}
    for slot in day_slots:
        if slot.service_id in days:
            days[slot.service_id].slots.append(by_slot[slot.id])
    return [d for d in days.values() if d.slots or d.service.active]


def staff_names(bookings):
    """{staff id: full name} of the staff who handled, booked or cancelled these bookings (shown beside them)."""
    ids = {i for b in bookings for i in (b.handled_by_id, b.cancelled_by_staff_id, b.created_by_id) if i}
    if not ids:
        return {}
    return dict(db.session.execute(select(Staff.id, Staff.full_name).where(Staff.id.in_(ids))).all())


def normalize_code(raw):
    """What a scanner or a person typed -> the booking code: the text after the last "/" or ":" of a scanned URL or
    tagged payload, letters and digits only, upper case."""
    text = (raw or "").strip()[:200]
    text = re.split(r"[/:=]", text)[-1]
    return re.sub(r"[^0-9A-Za-z]", "", text).upper()[:12]


def _get_booking(actor, booking_id, permission="bookings.counter", lock=True):
    require_permission(actor, permission)
    return get_scoped(
        Booking, booking_id, actor=actor, unit_column=Booking.station_id, not_found=BookingNotFound, lock=lock
    )


def _move(booking, from_status, now, **values):
    """The conditional UPDATE of one booking's status: 0 rows (someone else moved it first) -> BookingStateInvalid."""
    result = db.session.execute(
        update(Booking)
        .where(Booking.id == booking.id, Booking.status == from_status)
        .values(updated_at=now, version_id=Booking.version_id + 1, **values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise BookingStateInvalid()
    db.session.refresh(booking)


def _audit(actor, action, booking, **details):
    audit_service.record(actor=actor, action=action, object_type="booking", object_id=booking.id, details=details)


def check_in(*, actor, station_id, code, now=None):
    """Check in the booking with `code` at station `station_id` (booked -> checked_in), on its day or within an hour
    before it starts. Returns the Booking.

    :raises PermissionDenied, OrgUnitNotFound, BookingNotFound (unknown code, or another station's),
        WrongDay, BookingStateInvalid (already checked in, cancelled …)
    """
    require_permission(actor, "bookings.counter")
    now = now or utcnow()
    station = resolve_station(actor, station_id)
    code = normalize_code(code)
    with transaction():
        booking = None
        if station is not None and code:
            booking = db.session.scalars(
                select(Booking).where(Booking.code == code, Booking.station_id == station.id)
            ).first()
        if booking is None:
            raise BookingNotFound()
        if booking.status != "booked":
            raise BookingStateInvalid(details={"status": STATUS_LABELS.get(booking.status, booking.status)})
        early = booking.starts_at - CHECK_IN_EARLY <= now < booking.starts_at
        if cst_day(now) != cst_day(booking.starts_at) and not early:
            raise WrongDay(details={"day": cst_day(booking.starts_at).isoformat()})
        _move(booking, "booked", now, status="checked_in", checked_in_at=now, handled_by_id=actor.id)
        _audit(actor, "bookings.checked_in", booking)
    return booking


def complete(*, actor, booking_id, note=None, now=None):
    """checked_in -> completed, with the clerk's note. :raises PermissionDenied, BookingNotFound,
    ValidationFailed (note too long), BookingStateInvalid"""
    now = now or utcnow()
    note = (note or "").strip() or None
    if note and len(note) > 500:
        raise ValidationFailed(details={"note": "办理情况不能超过500字"})
    with transaction():
        booking = _get_booking(actor, booking_id)
        _move(booking, "checked_in", now, status="completed", completed_at=now, handled_by_id=actor.id, note=note)
        _audit(actor, "bookings.completed", booking)
    return booking


def mark_no_show(*, actor, booking_id, now=None):
    """booked -> no_show once the slot has ended; writes or extends the veteran's block at the limit.

    :raises PermissionDenied, BookingNotFound, SlotNotEnded, BookingStateInvalid
    """
    now = now or utcnow()
    with transaction():
        booking = _get_booking(actor, booking_id)
        slot = db.session.get(Slot, booking.slot_id)
        if slot.ends_at > now:
            raise SlotNotEnded()
        _move(booking, "booked", now, status="no_show", handled_by_id=actor.id)
        block = blocks.note_no_show(booking.veteran_id, now)
        _audit(actor, "bookings.no_show", booking, blocked=block is not None)
    return booking


def _reason(reason):
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(details={"reason": "请填写取消原因"})
    if len(reason) > 200:
        raise ValidationFailed(details={"reason": "取消原因不能超过200字"})
    return reason


def _when(moment):
    return moment.astimezone(CST).strftime("%Y-%m-%d %H:%M")


def _tell_cancelled(veteran_ids, *, service_id, station_id, starts_at, reason):
    """The booking.cancelled event to each veteran (inbox now, WeChat after the commit), naming time and reason."""
    service, station = db.session.get(BookingService, service_id), db.session.get(OrgUnit, station_id)
    when = _when(starts_at)
    notify(
        "booking.cancelled",
        veteran_ids,
        title=f"{service.name}预约已取消"[:20],
        body=f"您预约的{service.name}（{when}，{station.name}）已被服务站取消。原因：{reason}。如仍需办理，请重新预约。",
        values={"预约时间": when, "服务站": station.name, "原因": reason},
        sender_unit_id=station.id,
    )


def cancel_booking(*, actor, booking_id, reason, now=None):
    """The station cancels one booked booking through the booking core (its place returns to the slot; no cut-off
    for the station) and tells the veteran at once.

    :raises PermissionDenied, BookingNotFound, ValidationFailed (no reason), BookingStateInvalid
    """
    reason = _reason(reason)
    with transaction():
        booking = booking_service.cancel(booking_id=booking_id, by="station", actor=actor, reason=reason, now=now)
        b = booking
        _tell_cancelled(
            [b.veteran_id], service_id=b.service_id, station_id=b.station_id, starts_at=b.starts_at, reason=reason
        )
        _audit(actor, "bookings.station_cancelled", booking, reason=reason)
    return booking


def cancel_slot(*, actor, slot_id, reason, now=None):
    """The station cancels a whole slot (the clerk is ill): the slot closes, every booked booking of it is cancelled
    by the station with the reason, the counter drops accordingly, and each veteran is told at once. Checked-in
    bookings stay. Returns the number of bookings cancelled.

    :raises PermissionDenied, SlotNotFound, ValidationFailed (no reason), BookingStateInvalid (cancelled or over)
    """
    require_permission(actor, "bookings.counter")
    now = now or utcnow()
    reason = _reason(reason)
    with transaction():
        slot = get_scoped(Slot, slot_id, actor=actor, unit_column=Slot.station_id, not_found=SlotNotFound, lock=True)
        if slot.status != "open" or slot.ends_at <= now:
            raise BookingStateInvalid(message="该时段已取消或已结束")
        cancelled = db.session.execute(
            update(Booking)
            .where(Booking.slot_id == slot.id, Booking.status == "booked")
            .values(
                status="cancelled",
                cancelled_by="station",
                cancelled_by_staff_id=actor.id,
                cancel_reason=reason,
                cancelled_at=now,
                updated_at=now,
                version_id=Booking.version_id + 1,
            )
            .returning(Booking.veteran_id)
            .execution_options(synchronize_session=False)
        ).all()
        veteran_ids = [row[0] for row in cancelled]
        db.session.execute(
            update(Slot)
            .where(Slot.id == slot.id)
            .values(status="cancelled", cancel_reason=reason, booked=Slot.booked - len(veteran_ids))
            .execution_options(synchronize_session=False)
        )
        db.session.refresh(slot)
        _tell_cancelled(
            veteran_ids, service_id=slot.service_id, station_id=slot.station_id, starts_at=slot.starts_at, reason=reason
        )
        audit_service.record(
            actor=actor,
            action="bookings.slot_cancelled",
            object_type="slot",
            object_id=slot.id,
            details={"bookings": len(veteran_ids)},
        )
    return len(veteran_ids)


# --- booking on a veteran's behalf


def find_veterans(*, actor, station, query, limit=20):
    """Veterans of `station` whose name starts with `query`, or whose ID number is `query` (the HMAC index)."""
    require_permission(actor, "bookings.counter")
    query = (query or "").strip()[:64]
    if not query:
        return []
    base = select(Veteran).where(Veteran.station_id == station.id, Veteran.status == "active")
    if re.fullmatch(r"\d{17}[\dXx]", query):
        try:
            number = parse_id_number(query).number  # every live key version's index (issue 15)
            condition = pii.index_in(Veteran.id_number_hmac, number, context=ID_CONTEXT)
        except ValidationFailed:
            return []
    else:
        condition = Veteran.name.startswith(query, autoescape=True)
    return db.session.scalars(base.where(condition).order_by(Veteran.name, Veteran.id).limit(limit)).all()


def services_of(station):
    return catalog.services_for_station(station.id)


def free_slots(*, service, day, now=None):
    """The bookable slots of `service` on `day` (CST): open, not started, a place free, within the window."""
    return slots.free_slots(service, day, day, now)


def get_veteran_of_station(*, actor, station, veteran_id):
    require_permission(actor, "bookings.counter")
    veteran = get_scoped(Veteran, veteran_id, actor=actor, unit_column=Veteran.unit_id, not_found=VeteranNotFound)
    if veteran.station_id != station.id:
        raise VeteranNotFound()
    return veteran


def book_for(*, actor, veteran_id, slot_id):
    """Book `slot_id` for a veteran of the slot's station at the counter, through the booking core.

    :raises PermissionDenied, VeteranNotFound, SlotNotFound, and the core's BookingSlotFull, BookingDuplicate,
        BookingBlocked …
    """
    require_permission(actor, "bookings.counter")
    slot = get_scoped(Slot, slot_id, actor=actor, unit_column=Slot.station_id, not_found=SlotNotFound)
    veteran = get_scoped(Veteran, veteran_id, actor=actor, unit_column=Veteran.unit_id, not_found=VeteranNotFound)
    if veteran.station_id != slot.station_id:
        raise SlotNotFound()
    with transaction():
        booking = booking_service.book(veteran_id=veteran.id, slot_id=slot.id, channel="counter", actor=actor)
        _audit(actor, "bookings.counter_booked", booking)
    return booking
