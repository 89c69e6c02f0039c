"""GET /services, GET /services/{id}/slots, POST/GET /bookings, POST /bookings/{id}/cancel, /reschedule."""

import marshmallow as ma
from flask_smorest import Blueprint

from backend.bookings import service as booking_service
from backend.registration.windows import CST
from miniprogram_api.docs import VETERAN_ERRORS, errors
from miniprogram_api.security import audit_actor, current_veteran_id

bp = Blueprint("bookings", __name__, description="服务预约")

ID = {"validate": ma.validate.Range(min=1, max=2**62)}


def _cst(moment):
    return moment.astimezone(CST).isoformat() if moment else None


def _lines(text):
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


class StationSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    name = ma.fields.String(required=True)
    address = ma.fields.String(required=True, metadata={"description": "服务站所在地（市、县、乡镇名称）"})


class ServiceSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    name = ma.fields.String(required=True)
    description = ma.fields.String(allow_none=True)
    materials = ma.fields.Function(lambda s: _lines(s.materials), required=True, metadata={"description": "需携带材料"})
    location = ma.fields.String(allow_none=True, metadata={"description": "办理地点（窗口、房间）"})
    slot_minutes = ma.fields.Integer(required=True)
    book_ahead_days = ma.fields.Integer(required=True, metadata={"description": "可提前预约的天数"})
    cutoff_minutes = ma.fields.Integer(required=True, metadata={"description": "开始前多少分钟停止取消和改期"})


class ServiceListSchema(ma.Schema):
    station = ma.fields.Nested(StationSchema, required=True)
    items = ma.fields.List(ma.fields.Nested(ServiceSchema), required=True)


class SlotArgsSchema(ma.Schema):
    first = ma.fields.Date(
        data_key="from", load_default=None, metadata={"description": "开始日期（北京时间），默认今天"}
    )
    last = ma.fields.Date(
        data_key="to", load_default=None, metadata={"description": "结束日期（含），默认可预约的最后一天；最多31天"}
    )


class SlotSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    date = ma.fields.String(required=True)
    time = ma.fields.String(required=True)
    starts_at = ma.fields.String(required=True)
    ends_at = ma.fields.String(required=True)
    capacity = ma.fields.Integer(required=True)
    free = ma.fields.Integer(required=True, metadata={"description": "余号"})


def _slot_view(slot):
    """A slot as the phone shows it, CST, each time converted once (a window lists up to a few hundred)."""
    starts, ends = slot.starts_at.astimezone(CST), slot.ends_at.astimezone(CST)
    return {
        "id": slot.id,
        "date": starts.date().isoformat(),
        "time": f"{starts:%H:%M}-{ends:%H:%M}",
        "starts_at": starts.isoformat(),
        "ends_at": ends.isoformat(),
        "capacity": slot.capacity,
        "free": max(slot.capacity - slot.booked, 0),
    }


class SlotListSchema(ma.Schema):
    service_id = ma.fields.Integer(required=True)
    items = ma.fields.List(ma.fields.Nested(SlotSchema), required=True)


def _b(name):
    return lambda row: getattr(row["booking"], name)


class BookingSchema(ma.Schema):
    id = ma.fields.Function(_b("id"), required=True)
    status = ma.fields.Function(
        _b("status"), required=True, metadata={"description": "booked | checked_in | completed | no_show | cancelled"}
    )
    status_label = ma.fields.Function(lambda r: booking_service.STATUS_LABELS[r["booking"].status], required=True)
    service_id = ma.fields.Function(lambda r: r["service"].id, required=True)
    service_name = ma.fields.Function(lambda r: r["service"].name, required=True)
    date = ma.fields.Function(lambda r: r["booking"].starts_at.astimezone(CST).date().isoformat(), required=True)
    time = ma.fields.Function(
        lambda r: f"{r['booking'].starts_at.astimezone(CST):%H:%M}-{r['ends_at'].astimezone(CST):%H:%M}",
        required=True,
    )
    starts_at = ma.fields.Function(lambda r: _cst(r["booking"].starts_at), required=True)
    ends_at = ma.fields.Function(lambda r: _cst(r["ends_at"]), required=True)
    code = ma.fields.Function(_b("code"), required=True, metadata={"description": "签到码，窗口报码或扫码签到"})
    qr = ma.fields.Function(
        lambda r: r["qr"], allow_none=True, metadata={"description": "签到二维码（SVG data URI），仅有效预约"}
    )
    station_name = ma.fields.Function(lambda r: r["station_name"], required=True)
    station_address = ma.fields.Function(lambda r: r["station_address"], required=True)
    location = ma.fields.Function(lambda r: r["service"].location, allow_none=True)
    materials = ma.fields.Function(lambda r: _lines(r["service"].materials), required=True)
    channel = ma.fields.Function(_b("channel"), required=True, metadata={"description": "phone | counter"})
    cancelled_by = ma.fields.Function(
        _b("cancelled_by"), allow_none=True, metadata={"description": "veteran | station"}
    )
    cancelled_by_label = ma.fields.Function(
        lambda r: booking_service.CANCELLED_BY_LABELS.get(r["booking"].cancelled_by), allow_none=True
    )
    cancel_reason = ma.fields.Function(_b("cancel_reason"), allow_none=True)
    change_deadline = ma.fields.Function(
        lambda r: _cst(r["deadline"]), required=True, metadata={"description": "此时间前可取消或改期"}
    )
    changeable = ma.fields.Function(lambda r: r["changeable"], required=True)
    created_at = ma.fields.Function(lambda r: _cst(r["booking"].created_at), required=True)


class BookingPageSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(BookingSchema), required=True)
    next_cursor = ma.fields.Integer(allow_none=True, required=True)


class PageArgsSchema(ma.Schema):
    cursor = ma.fields.Integer(load_default=None, **ID)
    limit = ma.fields.Integer(load_default=20, validate=ma.validate.Range(min=1, max=50))


class SlotChoiceSchema(ma.Schema):
    slot_id = ma.fields.Integer(required=True, strict=True, **ID)


def _one(booking):
    return booking_service.describe([booking])[0]


@bp.route("/services", methods=["GET"])
@bp.response(200, ServiceListSchema)
@errors(bp, *VETERAN_ERRORS)
def list_services():
    """本人所属服务站可预约的服务项目，含需携带材料、办理地点和服务站地址。"""
    station, address, services = booking_service.list_services(veteran_id=current_veteran_id())
    return {"station": {"id": station.id, "name": station.name, "address": address}, "items": services}


@bp.route("/services/<id:service_id>/slots", methods=["GET"])
@bp.arguments(SlotArgsSchema, location="query")
@bp.response(200, SlotListSchema)
@errors(bp, *VETERAN_ERRORS, "booking.service_not_found")
def list_slots(args, service_id):
    """某服务项目可预约的时段（北京时间日期），含余号；默认今天至可预约的最后一天，一次最多31天。"""
    service, slots = booking_service.list_slots(veteran_id=current_veteran_id(), service_id=service_id, **args)
    return {"service_id": service.id, "items": [_slot_view(slot) for slot in slots]}


@bp.route("/bookings", methods=["GET"])
@bp.arguments(PageArgsSchema, location="query")
@bp.response(200, BookingPageSchema)
@errors(bp, *VETERAN_ERRORS)
def list_bookings(args):
    """本人的预约，按预约时间倒序，含签到码、二维码、服务站地址和需携带材料。"""
    rows, next_cursor = booking_service.list_bookings(veteran_id=current_veteran_id(), **args)
    return {"items": booking_service.describe(rows), "next_cursor": next_cursor}


@bp.route("/bookings", methods=["POST"])
@bp.arguments(SlotChoiceSchema)
@bp.response(201, BookingSchema)
@errors(
    bp,
    *VETERAN_ERRORS,
    "booking.slot_not_found",
    "booking.slot_full",
    "booking.duplicate",
    "booking.blocked",
    "booking.slot_unavailable",
)
def create_booking(payload):
    """预约一个时段。约满返回409 booking.slot_full；同一服务只能有一个有效预约（409 booking.duplicate）。"""
    veteran_id = current_veteran_id()
    return _one(booking_service.book(veteran_id=veteran_id, slot_id=payload["slot_id"], account=audit_actor()))


@bp.route("/bookings/<id:booking_id>/cancel", methods=["POST"])
@bp.response(200, BookingSchema)
@errors(bp, *VETERAN_ERRORS, "booking.not_found", "booking.invalid_state", "booking.cutoff_passed")
def cancel_booking(booking_id):
    """取消本人的预约（须在开始前规定时间之前，否则409 booking.cutoff_passed）。"""
    veteran_id = current_veteran_id()
    booking = booking_service.cancel(booking_id=booking_id, by="veteran", veteran_id=veteran_id, account=audit_actor())
    return _one(booking)


@bp.route("/bookings/<id:booking_id>/reschedule", methods=["POST"])
@bp.arguments(SlotChoiceSchema)
@bp.response(200, BookingSchema)
@errors(
    bp,
    *VETERAN_ERRORS,
    "booking.not_found",
    "booking.slot_not_found",
    "booking.invalid_state",
    "booking.cutoff_passed",
    "booking.slot_full",
    "booking.slot_unavailable",
)
def reschedule_booking(payload, booking_id):
    """改约到同一服务的另一时段：原时段释放、新时段占位在同一事务中完成，不会同时占两个或一个都不占。"""
    booking = booking_service.reschedule(
        booking_id=booking_id, slot_id=payload["slot_id"], veteran_id=current_veteran_id(), account=audit_actor()
    )
    return _one(booking)
