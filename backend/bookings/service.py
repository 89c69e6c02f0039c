"""The booking core: book, cancel and reschedule without ever overbooking a slot, and the phone's reads.

A place in a slot is taken only by the conditional `UPDATE slot SET booked = booked + 1 WHERE id = :id AND booked <
capacity AND status = 'open'` in the same transaction as the booking row (quality.md "Booking pattern"); a rowcount of
0 is BookingSlotFull and the whole transaction rolls back. The CHECK (0 <= booked <= capacity) is the backstop, and the
partial unique index (one booked|checked_in booking per veteran and service) makes a double submit BookingDuplicate.
Writers that touch a booked booking lock in one order, the counter's whole-slot cancel included: slot rows by
ascending id first, then the booking, so no two writers ever wait on each other in a circle.
"""

from datetime import timedelta

from sqlalchemy import case, select, update
from sqlalchemy.exc import IntegrityError

from backend import denials
from backend.audit import service as audit_service
from backend.bookings import catalog, codes
from backend.bookings.catalog import ServiceNotFound  # one class per code: the catalog's
from backend.bookings.models import ACTIVE, Booking, BookingService, Slot
from backend.db import expire_loaded, rows_by_id, transaction, utcnow
from backend.errors import NotFound, RuleViolation, StaleUpdate, ValidationFailed
from backend.extensions import db
from backend.orgs.models import OrgUnit
from backend.orgs.scope import get_scoped, require_permission
from backend.registration.windows import CST, today_cst
from backend.veterans.models import Veteran
from backend.veterans.service import VeteranNotFound

STATUS_LABELS = {
    "booked": "已预约",
    "checked_in": "已签到",
    "completed": "已办结",
    "no_show": "未到",
    "cancelled": "已取消",
}
CANCELLED_BY_LABELS = {"veteran": "本人取消", "station": "服务站取消"}
MAX_RANGE_DAYS = 31  # GET /services/{id}/slots answers at most this many days at once


class BookingSlotFull(RuleViolation):
    code = "booking.slot_full"
    message = "该时段已约满，请选择其他时间"


class BookingDuplicate(RuleViolation):
    code = "booking.duplicate"
    message = "您已预约该服务，请勿重复预约；如需调整时间，请改期"


class CutoffPassed(RuleViolation):
    code = "booking.cutoff_passed"
    message = "已超过可取消或改期的时间，如需帮助请联系服务站"


class BookingBlocked(RuleViolation):
    code = "booking.blocked"
    message = "您近期多次预约未到，暂时不能预约，如有疑问请联系服务站"


class BookingNotFound(NotFound):
    code = "booking.not_found"
    message = "未找到该预约"


class SlotNotFound(NotFound):
    code = "booking.slot_not_found"
    message = "未找到该预约时段"


class SlotUnavailable(RuleViolation):
    code = "booking.slot_unavailable"
    message = "该时段暂不可预约，请选择其他时间"


class BookingStateInvalid(RuleViolation):
    code = "booking.invalid_state"
    message = "该预约当前状态不能进行此操作"


# --- the writes


def book(*, veteran_id, slot_id, channel="phone", actor=None, account=None, now=None):
    """Book a place in `slot_id` for the veteran: one transaction inserts the booking and takes the place.

    :param actor: the staff member booking at the counter (channel "counter"; needs bookings.counter and the veteran
        in scope), or None for the veteran's own booking on the phone.
    :param account: the veteran's WeChat account (the audit row's actor on the phone).
    :returns: the Booking (status "booked", with its check-in code).
    :raises VeteranNotFound (counter, out of scope), SlotNotFound (missing, another station's), SlotUnavailable,
        BookingBlocked, BookingDuplicate, BookingSlotFull, PermissionDenied.
    """
    now = now or utcnow()
    with transaction():
        station_id = _station_of(veteran_id, actor)
        slot = _get_slot(slot_id, station_id)
        service = db.session.get(BookingService, slot.service_id)
        _check_bookable(slot, service, now)
        _check_not_blocked(veteran_id, now)
        held = _active_booking_id(veteran_id, service.id)
        if held is not None:
            raise BookingDuplicate(details={"booking_id": held})
        booking = Booking(
            veteran_id=veteran_id,
            service_id=service.id,
            slot_id=slot.id,
            station_id=slot.station_id,
            starts_at=slot.starts_at,
            status="booked",
            channel=channel,
            created_by_id=actor.id if actor is not None else None,
        )
        _insert(booking)
        _take_place(slot.id)
        _audit(actor or account, "bookings.phone_booked", booking, channel=channel)
    return booking


def cancel(*, booking_id, by, actor=None, veteran_id=None, reason=None, account=None, now=None):
    """Cancel a booked booking; its place returns to the slot in the same transaction.

    :param by: "veteran" or "station" (who cancelled, recorded and shown, never confused in the figures).
    :param actor: staff at the counter (bookings.counter, booking in scope); None for the veteran on the phone, who
        must pass `veteran_id` and is held to the service's cut-off.
    :raises BookingNotFound (missing, another veteran's, out of scope), BookingStateInvalid, CutoffPassed.
    """
    if by not in CANCELLED_BY_LABELS:
        raise ValueError(f"unknown canceller {by!r}")
    now = now or utcnow()
    with transaction():
        booking = _get_booking(booking_id, veteran_id=veteran_id, actor=actor)
        _lock(booking, booking.slot_id)
        if booking.status != "booked":
            raise BookingStateInvalid(details={"status": booking.status})
        if actor is None:
            _check_cutoff(booking, now)
        booking.status, booking.cancelled_by, booking.cancelled_at = "cancelled", by, now
        booking.cancelled_by_staff_id = actor.id if actor is not None else None
        booking.cancel_reason = (reason or "").strip()[:200] or None
        _release_place(booking.slot_id)
        _audit(actor or account, "bookings.phone_cancelled", booking, by=by)
    return booking


def reschedule(*, booking_id, slot_id, veteran_id=None, actor=None, account=None, now=None):
    """Move a booked booking to another slot of the same service, atomically: the place in the new slot is taken
    (conditionally) and the old one released in one transaction, so the veteran never holds two slots or none.

    :raises BookingNotFound, BookingStateInvalid, CutoffPassed (phone, for the current slot), SlotNotFound,
        SlotUnavailable (another service's slot, closed, started, beyond the window), BookingSlotFull.
    """
    now = now or utcnow()
    with transaction():
        booking = _get_booking(booking_id, veteran_id=veteran_id, actor=actor)
        if booking.status != "booked":
            raise BookingStateInvalid(details={"status": booking.status})
        if actor is None:
            _check_cutoff(booking, now)
        new = _get_slot(slot_id, booking.station_id)
        if new.id == booking.slot_id:
            return booking
        if new.service_id != booking.service_id:
            raise SlotUnavailable(details={"reason": "other_service"})
        _check_bookable(new, db.session.get(BookingService, new.service_id), now)
        old_id = booking.slot_id
        _lock(booking, old_id, new.id)
        if booking.status != "booked":
            raise BookingStateInvalid(details={"status": booking.status})
        _take_place(new.id)
        _release_place(old_id)
        booking.slot_id, booking.starts_at, booking.reminded_at = new.id, new.starts_at, None
        _audit(actor or account, "bookings.phone_rescheduled", booking, from_slot=old_id)
    return booking


# --- rules and helpers


def _station_of(veteran_id, actor):
    if actor is not None:
        require_permission(actor, "bookings.counter")
        veteran = get_scoped(Veteran, veteran_id, actor=actor, unit_column=Veteran.unit_id, not_found=VeteranNotFound)
        return veteran.station_id
    station_id = db.session.scalar(select(Veteran.station_id).where(Veteran.id == veteran_id))
    if station_id is None:
        raise VeteranNotFound()
    return station_id


def _get_slot(slot_id, station_id):
    """The slot if it belongs to the veteran's station; another station's slot is the same 404 as a missing one."""
    slot = db.session.get(Slot, slot_id)
    if slot is None:
        raise SlotNotFound()
    if slot.station_id != station_id:
        raise denials.mark(SlotNotFound(), object_type="slot", object_id=slot_id)
    return slot


def _check_bookable(slot, service, now):
    if slot.status != "open" or service is None or not service.active:
        raise SlotUnavailable(details={"reason": "closed"})
    if slot.starts_at <= now:
        raise SlotUnavailable(details={"reason": "started"})
    if slot.starts_at.astimezone(CST).date() > today_cst(now) + timedelta(days=service.book_ahead_days):
        raise SlotUnavailable(details={"reason": "not_open_yet"})
    if slot.booked >= slot.capacity:  # a fast refusal when the read already shows it full; the UPDATE still decides
        raise BookingSlotFull()


def _check_not_blocked(veteran_id, now):
    from backend.bookings import blocks  # helper W's no-show rule

    blocked_until = blocks.is_blocked(veteran_id, now)
    if blocked_until is not None:
        raise BookingBlocked(details={"blocked_until": blocked_until.astimezone(CST).isoformat()})


def deadline(booking, service=None):
    """The last moment the veteran may cancel or reschedule on the phone: the start minus the cut-off."""
    service = service or db.session.get(BookingService, booking.service_id)
    return booking.starts_at - timedelta(minutes=service.cutoff_minutes)


def _check_cutoff(booking, now):
    last = deadline(booking)
    if now > last:
        raise CutoffPassed(details={"deadline": last.astimezone(CST).isoformat()})


def _active_booking_id(veteran_id, service_id):
    return db.session.scalar(
        select(Booking.id).where(
            Booking.veteran_id == veteran_id, Booking.service_id == service_id, Booking.status.in_(ACTIVE)
        )
    )


def _insert(booking):
    """Insert under a savepoint: a taken check-in code draws again; the one-active-booking index is a duplicate."""
    for _ in range(codes.ATTEMPTS):
        booking.code = codes.random_code()  # a taken code fails the unique constraint below and draws again
        try:
            with db.session.begin_nested():
                db.session.add(booking)
                db.session.flush()
            return
        except IntegrityError as error:
            # psycopg names the violated constraint, SQLite its columns
            name = getattr(getattr(error.orig, "diag", None), "constraint_name", None) or str(error.orig)
            if "uq_booking_code" not in name and "booking.code" not in name:
                raise BookingDuplicate() from None
    raise codes.CodeSpaceExhausted()


def _take_place(slot_id):
    try:
        taken = db.session.execute(
            update(Slot)
            .where(Slot.id == slot_id, Slot.booked < Slot.capacity, Slot.status == "open")
            .values(booked=Slot.booked + 1)
            .execution_options(synchronize_session=False, session_safe=True)
        ).rowcount
    except IntegrityError:  # the CHECK backstop (a capacity lowered under a concurrent writer): still just full
        raise BookingSlotFull() from None
    if taken != 1:
        raise BookingSlotFull()
    expire_loaded(Slot, slot_id, "booked")


def _release_place(slot_id):
    """Give the place back; a capacity kept above a lowered plan (slots.reconcile) shrinks toward the plan's."""
    planned = select(BookingService.capacity).where(BookingService.id == Slot.service_id).scalar_subquery()
    left = Slot.booked - 1
    db.session.execute(
        update(Slot)
        .where(Slot.id == slot_id, Slot.booked > 0)
        .values(
            booked=left, capacity=case((Slot.capacity <= planned, Slot.capacity), (left > planned, left), else_=planned)
        )
        .execution_options(synchronize_session=False)
    )


def _get_booking(booking_id, *, veteran_id, actor):
    """The booking (not yet locked): the veteran's own (veteran_id) or one of a station in the staff actor's scope."""
    if actor is not None:
        require_permission(actor, "bookings.counter")
        return get_scoped(Booking, booking_id, actor=actor, unit_column=Booking.station_id, not_found=BookingNotFound)
    booking = db.session.scalars(
        select(Booking).where(Booking.id == booking_id, Booking.veteran_id == veteran_id)
    ).first()
    if booking is None:
        if denials.exists(Booking, booking_id):  # another veteran's booking: audited, answered as not found
            raise denials.mark(BookingNotFound(), object_type="booking", object_id=booking_id)
        raise BookingNotFound()
    return booking


def _lock(booking, *slot_ids):
    """Lock the slots (ascending id), then the booking, re-read. :raises StaleUpdate: it moved to another slot
    meanwhile (a concurrent reschedule); the caller's view was out of date."""
    expected = booking.slot_id
    db.session.execute(select(Slot.id).where(Slot.id.in_(slot_ids)).order_by(Slot.id).with_for_update())
    db.session.scalars(
        select(Booking).where(Booking.id == booking.id).with_for_update().execution_options(populate_existing=True)
    ).first()
    if booking.slot_id != expected:
        raise StaleUpdate()


def _audit(actor, action, booking, **details):
    if actor is None or getattr(actor, "actor_type", "") == "staff":
        return  # counter actions are audited by the counter (backend/bookings/counter.py), with the staff member
    station = db.session.get(OrgUnit, booking.station_id)  # kept for describe(): the phone's answer names it
    audit_service.record(
        actor=actor, action=action, object_type="booking", object_id=booking.id, org_path=station.path, details=details
    )


# --- the phone's reads


def get_own_service(*, veteran_id, service_id):
    """An active service of the veteran's station. :raises ServiceNotFound:"""
    own = BookingService.station_id == select(Veteran.station_id).where(Veteran.id == veteran_id).scalar_subquery()
    query = select(BookingService).where(BookingService.id == service_id, BookingService.active.is_(True), own)
    service = db.session.scalars(query).first()  # one query: the service, active, at the veteran's own station
    if service is None:
        raise ServiceNotFound()
    return service


def list_services(*, veteran_id):
    """(station, its address, the station's active services) for the veteran's phone."""
    station = db.session.get(OrgUnit, _station_of(veteran_id, None))
    return station, station_address(station), catalog.services_for_station(station.id)


def list_slots(*, veteran_id, service_id, first=None, last=None, now=None):
    """(service, bookable slots) of the veteran's station's service from `first` to `last` (CST days, inclusive;
    default the booking window), earliest first. :raises ServiceNotFound, ValidationFailed:"""
    from backend.bookings import slots as slot_rules

    now = now or utcnow()
    service = get_own_service(veteran_id=veteran_id, service_id=service_id)
    window_first, window_last = slot_rules.window(service, now)
    first, last = first or window_first, last or window_last
    if last < first:
        raise ValidationFailed(details={"to": "结束日期不能早于开始日期"})
    if (last - first).days >= MAX_RANGE_DAYS:
        raise ValidationFailed(details={"to": f"一次最多查询{MAX_RANGE_DAYS}天"})
    return service, slot_rules.free_slots(service, first, last, now)  # generates the window's missing slots


def list_bookings(*, veteran_id, cursor=None, limit=20):
    """The veteran's own bookings, newest first, keyset by id: (rows, next_cursor)."""
    query = select(Booking).where(Booking.veteran_id == veteran_id)
    if cursor:
        query = query.where(Booking.id < cursor)
    rows = db.session.scalars(query.order_by(Booking.id.desc()).limit(limit + 1)).all()
    return rows[:limit], (rows[limit - 1].id if len(rows) > limit else None)


def station_address(station):
    """The station's address as the phone shows it: the names of its units from the city down (the org tree has
    no street address field), e.g. "某市某县青山镇服务站"."""
    ids = [int(part) for part in station.path.strip("/").split("/") if part]
    units = db.session.scalars(select(OrgUnit).where(OrgUnit.id.in_(ids)).order_by(OrgUnit.depth)).all()
    return "".join(unit.name for unit in units if unit.depth > 0) or station.name


def describe(bookings, now=None):
    """Rows for the phone: each booking with its service, slot, station, status label, deadline and QR code."""
    from backend.bookings import qr

    now = now or utcnow()
    services = rows_by_id(BookingService, {b.service_id for b in bookings})
    slots = rows_by_id(Slot, {b.slot_id for b in bookings})
    stations = rows_by_id(OrgUnit, {b.station_id for b in bookings})
    addresses = {station_id: station_address(station) for station_id, station in stations.items()}
    out = []
    for b in bookings:
        service, slot, station = services[b.service_id], slots[b.slot_id], stations[b.station_id]
        last = deadline(b, service)
        out.append(
            {
                "booking": b,
                "service": service,
                "ends_at": slot.ends_at,
                "station_name": station.name,
                "station_address": addresses[b.station_id],
                "deadline": last,
                "changeable": b.status == "booked" and now <= last,
                "qr": qr.svg_data_uri(b.code) if b.status in ACTIVE else None,
            }
        )
    return out
