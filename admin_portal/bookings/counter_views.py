"""The counter: the day's bookings, check-in by code, completion, no-shows, booking on behalf, cancellations."""

import re
from datetime import date

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from admin_portal.bookings import bp
from admin_portal.security import permission_required
from backend.bookings import blocks
from backend.bookings import counter as desk
from backend.bookings.models import Booking
from backend.db import utcnow
from backend.errors import NotFound, RuleViolation, ValidationFailed
from backend.extensions import db
from backend.registration.windows import today_cst
from backend.veterans.queries import stations_in_scope
from backend.webutil import positive_int

CHANNELS = {"phone": "小程序", "counter": "窗口代约"}


def _actor():
    return current_user._get_current_object()


def _day(source):
    try:
        day = date.fromisoformat((source.get("day") or "")[:10])
    except ValueError:
        return today_cst()
    return day if 2000 <= day.year <= 2100 else today_cst()


def _text(name, limit=1000):
    return (request.form.get(name) or "")[:limit]


def _back(station_id=None, day=None):
    """To the counter page of the form's station and day."""
    args = {
        "station": station_id or positive_int(request.form, "station"),
        "day": (day or _day(request.form)).isoformat(),
    }
    return redirect(url_for("bookings.counter", **{k: v for k, v in args.items() if v}))


def _failed(error):
    details = [v for v in (error.details or {}).values() if isinstance(v, str)]
    flash(error.message if isinstance(error, RuleViolation) or not details else "；".join(details), "danger")


@bp.route("/counter")
@permission_required("bookings.view")
def counter():
    actor = _actor()
    station = desk.resolve_station(actor, positive_int(request.args, "station"))
    day = _day(request.args)
    services = desk.station_day(actor=actor, station=station, day=day) if station else []
    bookings = [b for s in services for row in s.slots for b, _ in row.bookings]
    return render_template(
        "bookings/counter_day.html",
        station=station,
        stations=stations_in_scope(actor),
        day=day,
        today=today_cst(),
        services=services,
        names=desk.staff_names(bookings),
        blocked=blocks.blocked_among([b.veteran_id for b in bookings]),
        labels=desk.STATUS_LABELS,
        channels=CHANNELS,
        ended=_ended_slots(services),
        can_act=actor.can("bookings.counter"),
        can_view_veterans=actor.can("veterans.view"),
    )


def _ended_slots(services):
    now = utcnow()
    return {row.slot.id for s in services for row in s.slots if row.slot.ends_at <= now}


@bp.route("/counter/check-in", methods=["POST"])
@permission_required("bookings.counter")
def counter_check_in():
    station_id = positive_int(request.form, "station")
    try:
        booking = desk.check_in(actor=_actor(), station_id=station_id, code=_text("code", 200))
    except desk.BookingNotFound:
        flash("未找到该预约码，请核对后重新扫码或输入（只能办理本服务站的预约）", "danger")
    except (RuleViolation, ValidationFailed) as error:
        _failed(error)
    else:
        flash(f"签到成功：{_who(booking)}，预约码 {booking.code}", "success")
        return _back(booking.station_id, desk.cst_day(booking.starts_at))
    return _back(station_id)


def _who(booking):
    from backend.veterans.models import Veteran

    veteran = db.session.get(Veteran, booking.veteran_id)
    return veteran.name if veteran else ""


def _act(action, booking_id, success, **kwargs):
    """Run one counter action on a booking and go back to its day; business refusals become a flash message, a
    booking out of scope the 404 page."""
    try:
        booking = action(actor=_actor(), booking_id=booking_id, **kwargs)
    except (RuleViolation, ValidationFailed) as error:
        _failed(error)
        booking = db.session.get(Booking, booking_id)
        return _back(booking.station_id if booking else None)
    flash(f"{success}：{_who(booking)}", "success")
    return _back(booking.station_id, desk.cst_day(booking.starts_at))


@bp.route("/counter/bookings/<id:booking_id>/complete", methods=["POST"])
@permission_required("bookings.counter")
def counter_complete(booking_id):
    return _act(desk.complete, booking_id, "已办结", note=_text("note", 1000))


@bp.route("/counter/bookings/<id:booking_id>/no-show", methods=["POST"])
@permission_required("bookings.counter")
def counter_no_show(booking_id):
    return _act(desk.mark_no_show, booking_id, "已标记爽约")


@bp.route("/counter/bookings/<id:booking_id>/cancel", methods=["POST"])
@permission_required("bookings.counter")
def counter_cancel(booking_id):
    return _act(desk.cancel_booking, booking_id, "已取消预约并通知本人", reason=_text("reason"))


@bp.route("/counter/slots/<id:slot_id>/cancel", methods=["POST"])
@permission_required("bookings.counter")
def counter_cancel_slot(slot_id):
    try:
        count = desk.cancel_slot(actor=_actor(), slot_id=slot_id, reason=_text("reason"))
    except (RuleViolation, ValidationFailed) as error:
        _failed(error)
    else:
        flash(f"该时段已取消，已通知 {count} 位预约人", "success")
    return _back()


@bp.route("/counter/blocks/<id:veteran_id>/lift", methods=["POST"])
@permission_required("bookings.counter")
def counter_lift_block(veteran_id):
    try:
        blocks.lift_block(actor=_actor(), veteran_id=veteran_id)
    except blocks.BlockNotFound as error:
        flash(error.message, "warning")
    else:
        flash("已解除预约限制", "success")
    if request.form.get("back") == "veteran":
        return redirect(url_for("veterans.detail", veteran_id=veteran_id))
    return _back()


@bp.route("/counter/book", methods=["GET", "POST"])
@permission_required("bookings.counter")
def counter_book():
    actor = _actor()
    source = request.form if request.method == "POST" else request.args
    station = desk.resolve_station(actor, positive_int(source, "station"))
    if station is None:
        raise NotFound()
    veteran_id = positive_int(source, "veteran")
    veteran = desk.get_veteran_of_station(actor=actor, station=station, veteran_id=veteran_id) if veteran_id else None
    query = (source.get("q") or "").strip()[:64]  # a search is POSTed, so an ID number never sits in a URL
    if request.method == "POST" and not query:
        try:
            booking = desk.book_for(actor=actor, veteran_id=veteran_id, slot_id=positive_int(source, "slot"))
        except (RuleViolation, ValidationFailed) as error:
            _failed(error)
        else:
            flash(f"已为 {veteran.name} 预约成功，预约码 {booking.code}", "success")
            return _back(station.id, desk.cst_day(booking.starts_at))
    services = desk.services_of(station)
    service = next((s for s in services if s.id == positive_int(source, "service")), None)
    day = _day(source)
    return render_template(
        "bookings/counter_book.html",
        station=station,
        stations=stations_in_scope(actor),
        query=query,
        shown_query="" if re.fullmatch(r"\d{17}[\dXx]", query) else query,
        found=desk.find_veterans(actor=actor, station=station, query=query) if query and not veteran else [],
        veteran=veteran,
        blocked_until=blocks.is_blocked(veteran.id) if veteran else None,
        services=services,
        service=service,
        day=day,
        slots=desk.free_slots(service=service, day=day) if veteran and service else [],
    ), 200
