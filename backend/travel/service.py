"""Trips abroad: consent, report, depart, return, cancel; staff recording, notes, scoped and audited views.

States: planned -> departed -> returned, or planned -> cancelled. A planned return date that passes without a return
report makes the trip overdue (the daily job). Dates are China Standard Time calendar dates.
"""

from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import lazyload

from backend import denials, pii
from backend.audit import service as audit_service
from backend.db import transaction
from backend.errors import NotFound, RuleViolation, ValidationFailed
from backend.extensions import db
from backend.names import clean_name
from backend.orgs.scope import get_scoped, require_permission
from backend.registration.windows import today_cst
from backend.travel.countries import DESTINATIONS, DOCUMENTS, PURPOSES
from backend.travel.models import CONTEXT, TravelConsent, Trip, TripEvent
from backend.veterans import service as veterans_service

NOTICE_VERSION = "2026-1"


class ConsentRequired(RuleViolation):
    code = "travel.consent_required"
    message = "首次报备出入境前，请先阅读并单独同意《出入境信息处理告知书》"


class TripNotFound(NotFound):
    code = "travel.not_found"
    message = "未找到该出行记录"


class TripStateInvalid(RuleViolation):
    code = "travel.invalid_state"
    message = "当前状态不能进行此操作"


def find_consent(veteran_id):
    return db.session.scalars(
        select(TravelConsent)
        .where(TravelConsent.veteran_id == veteran_id, TravelConsent.notice_version == NOTICE_VERSION)
        .order_by(TravelConsent.id.desc())
    ).first()


def give_consent(*, veteran, actor, channel="online", notice_version=NOTICE_VERSION):
    """Record the separate consent to the current notice (idempotent)."""
    if notice_version != NOTICE_VERSION:
        raise ValidationFailed(details={"notice_version": "告知书版本已更新，请重新阅读"})
    with transaction():
        consent = find_consent(veteran.id)
        if consent is None:
            consent = TravelConsent(
                veteran_id=veteran.id,
                notice_version=NOTICE_VERSION,
                channel=channel,
                recorded_by_id=actor.id if getattr(actor, "actor_type", "") == "staff" else None,
            )
            db.session.add(consent)
            db.session.flush()
            audit_service.record(
                actor=actor,
                action="travel.consent",
                object_type="veteran",
                object_id=veteran.id,
                org_path=veteran.station.path,
                details={"notice_version": NOTICE_VERSION},
            )
    return consent


def _clean(fields, *, today, staff=False):
    errors = {}
    if fields.get("destination") not in DESTINATIONS:
        errors["destination"] = "请从列表中选择目的地"
    if fields.get("purpose") not in PURPOSES:
        errors["purpose"] = "请选择出行事由"
    if fields.get("document_type") not in DOCUMENTS:
        errors["document_type"] = "请选择出入境证件类型"
    depart, back = fields.get("planned_departure"), fields.get("planned_return")
    if not isinstance(depart, date):
        errors["planned_departure"] = "请填写计划出境日期"
    elif depart > today + timedelta(days=365):
        errors["planned_departure"] = "只能报备一年以内的出行"
    elif depart < today and not staff:
        errors["planned_departure"] = "计划出境日期不能早于今天"
    if not isinstance(back, date):
        errors["planned_return"] = "请填写计划返回日期"
    elif isinstance(depart, date) and back < depart:
        errors["planned_return"] = "返回日期不能早于出境日期"
    note = clean_name(fields.get("purpose_note"))
    if len(note) > 200:
        errors["purpose_note"] = "不超过200字"
    if errors:
        raise ValidationFailed(details=errors)
    return {
        "destination": fields["destination"],
        "purpose": fields["purpose"],
        "purpose_note": note,
        "planned_departure": depart,
        "planned_return": back,
    }


def _event(trip, actor, action, channel, details=None):
    db.session.add(
        TripEvent(
            trip_id=trip.id,
            actor_type=getattr(actor, "actor_type", "system"),
            actor_label=getattr(actor, "username", None) or getattr(actor, "label", None),
            channel=channel,
            action=action,
            details=details or {},
        )
    )
    audit_service.record(
        actor=actor,
        action=f"travel.{action}",
        object_type="trip",
        object_id=trip.id,
        org_path=trip.veteran.station.path,
    )


def _create(veteran, actor, fields, channel, today, staff):
    consent = find_consent(veteran.id)
    if consent is None:
        raise ConsentRequired(details={"notice_version": NOTICE_VERSION})
    data = _clean(fields, today=today, staff=staff)
    trip = Trip(
        veteran_id=veteran.id,
        unit_id=veteran.unit_id,
        consent_id=consent.id,
        status="planned",
        document_type=fields["document_type"],
        channel=channel,
        recorded_by_id=actor.id if staff else None,
    )
    trip.seal(data)
    db.session.add(trip)
    db.session.flush()
    _event(trip, actor, "reported", channel)
    return trip


def report_trip(*, account, now=None, **fields):
    """The veteran reports a planned trip. :raises ConsentRequired, ValidationFailed:"""
    with transaction():
        return _create(account.veteran, account, fields, "online", today_cst(now), staff=False)


def record_trip(*, actor, veteran_id, channel="counter", consent_obtained=False, now=None, **fields):
    """A station clerk records a trip reported at the counter or by phone (consent obtained in person first)."""
    require_permission(actor, "travel.record")
    if channel not in ("counter", "phone"):
        raise ValidationFailed(details={"channel": "请选择报备方式"})
    with transaction():
        veteran = veterans_service.get_veteran(actor=actor, veteran_id=veteran_id)
        _check_all_at_once(veteran, fields, consent_obtained, today_cst(now))
        if consent_obtained:
            give_consent(veteran=veteran, actor=actor, channel=channel)
        return _create(veteran, actor, fields, channel, today_cst(now), staff=True)


def _check_all_at_once(veteran, fields, consent_obtained, today):
    """A counter form's problems in one answer: the fields' and a missing consent together (consent alone is still
    ConsentRequired)."""
    try:
        _clean(fields, today=today, staff=True)
    except ValidationFailed as error:
        if not consent_obtained and find_consent(veteran.id) is None:
            error.details["consent"] = ConsentRequired.message
        raise


def _own_trip(account, trip_id, lock=True):
    query = select(Trip).where(Trip.id == trip_id, Trip.veteran_id == account.veteran.id)
    trip = db.session.scalars(query.with_for_update(of=Trip) if lock else query).first()
    if trip is None:
        if denials.exists(Trip, trip_id):  # another veteran's trip: audited, answered as not found
            raise denials.mark(TripNotFound(), object_type="trip", object_id=trip_id)
        raise TripNotFound()
    return trip


def list_own_trips(*, account, cursor=None, limit=20):
    query = select(Trip).where(Trip.veteran_id == account.veteran.id)
    if cursor:
        query = query.where(Trip.id < cursor)
    rows = db.session.scalars(query.order_by(Trip.id.desc()).limit(limit + 1)).all()
    return rows[:limit], (rows[limit - 1].id if len(rows) > limit else None)


def _check_departure(departed_on, data, today):
    if departed_on > today or departed_on < data["planned_departure"] - timedelta(days=30):
        raise ValidationFailed(details={"departed_on": "出境日期不合理"})


def mark_departed(*, account, trip_id, departed_on=None, now=None):
    today = today_cst(now)
    with transaction():
        trip = _own_trip(account, trip_id)
        if trip.status != "planned":
            raise TripStateInvalid(details={"status": trip.status})
        data = trip.details
        departed_on = departed_on or today
        _check_departure(departed_on, data, today)
        data["departed_on"] = departed_on
        trip.seal(data)
        trip.status = "departed"
        _event(trip, account, "departed", "online")
    return trip


def report_return(*, account, trip_id, returned_on, departed_on=None, now=None):
    """Report the return (actual date). A trip never marked departed returns only with its departure date reported
    in the same call (`departed_on`); both are recorded, as two timeline events.

    :raises TripNotFound: not the veteran's trip.
    :raises TripStateInvalid: cancelled or already returned; or never departed and no `departed_on` given.
    :raises ValidationFailed: a date in the future, a return before the departure, or a departure that contradicts
        the one already reported.
    """
    today = today_cst(now)
    with transaction():
        trip = _own_trip(account, trip_id)
        if trip.status not in ("planned", "departed"):
            raise TripStateInvalid(details={"status": trip.status})
        data = trip.details
        if trip.status == "planned":
            if departed_on is None:
                raise TripStateInvalid(
                    "尚未报告出境，请同时填写实际出境日期",
                    details={"status": trip.status, "departed_on": "请填写实际出境日期"},
                )
            _check_departure(departed_on, data, today)
        elif departed_on is not None and departed_on != data.get("departed_on"):
            raise ValidationFailed(details={"departed_on": "与已报告的出境日期不一致"})
        departed = departed_on or data.get("departed_on") or data["planned_departure"]
        if not isinstance(returned_on, date) or returned_on > today or returned_on < departed:
            raise ValidationFailed(details={"returned_on": "返回日期不能晚于今天，也不能早于出境日期"})
        if trip.status == "planned":
            data["departed_on"] = departed
            _event(trip, account, "departed", "online")
        data["returned_on"] = returned_on
        trip.seal(data)
        trip.status, trip.overdue = "returned", False
        _event(trip, account, "returned", "online")
    return trip


def cancel_trip(*, account, trip_id):
    with transaction():
        trip = _own_trip(account, trip_id)
        if trip.status != "planned":
            raise TripStateInvalid(details={"status": trip.status})
        trip.status = "cancelled"
        _event(trip, account, "cancelled", "online")
    return trip


def get_trip_for_staff(*, actor, trip_id):
    """A trip in the actor's scope; every staff view of a trip's detail is audited."""
    require_permission(actor, "travel.view")
    trip = get_scoped(Trip, trip_id, actor=actor, unit_column=Trip.unit_id, not_found=TripNotFound)
    with transaction():
        audit_service.record(actor=actor, action="travel.view", object_type="trip", object_id=trip.id)
    return trip


def add_staff_note(*, actor, trip_id, note):
    note = clean_name(note)
    if not note or len(note) > 500:
        raise ValidationFailed(details={"note": "请填写跟进情况（不超过500字）"})
    require_permission(actor, "travel.record")
    with transaction():
        trip = get_scoped(Trip, trip_id, actor=actor, unit_column=Trip.unit_id, not_found=TripNotFound, lock=True)
        previous = trip.staff_note
        stamp = f"{today_cst():%Y-%m-%d} {actor.full_name}：{note}"
        trip.staff_note_sealed = pii.encrypt(f"{previous}\n{stamp}" if previous else stamp, context=f"{CONTEXT}.note")
        _event(trip, actor, "followed_up", "portal")
    return trip


def list_events(trip):
    return db.session.scalars(select(TripEvent).where(TripEvent.trip_id == trip.id).order_by(TripEvent.id)).all()


def trips_for_registration(veteran_id, year):
    """Trips that left in `year` - 1 or `year` up to now (the registration's "past year"), for its prefill."""
    rows = db.session.scalars(
        select(Trip)
        .options(lazyload(Trip.veteran))  # the caller holds the veteran: no join to it and its two units
        .where(Trip.veteran_id == veteran_id, Trip.status.in_(("departed", "returned")))
    ).all()
    out = []
    for trip in rows:
        data = trip.details
        left = data.get("departed_on") or data["planned_departure"]
        if left.year >= year - 1:
            out.append(
                {
                    "destination": DESTINATIONS.get(data["destination"], data["destination"]),
                    "from": left.isoformat(),
                    "to": (data.get("returned_on") or data["planned_return"]).isoformat(),
                }
            )
    return sorted(out, key=lambda t: t["from"])
