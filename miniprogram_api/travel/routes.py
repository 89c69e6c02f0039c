"""GET/POST /travels, POST /travels/{id}/depart|return|cancel, GET/POST /travels/consent."""

import marshmallow as ma
from flask_smorest import Blueprint

from backend.travel import service as travel_service
from backend.travel.countries import DESTINATIONS, DOCUMENTS, PURPOSES
from miniprogram_api.docs import VETERAN_ERRORS, errors
from miniprogram_api.security import current_account, current_veteran

bp = Blueprint("travel", __name__, description="出入境报备")


class TripSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    status = ma.fields.String(required=True, metadata={"description": "planned | departed | returned | cancelled"})
    overdue = ma.fields.Boolean(required=True)
    destination = ma.fields.Function(lambda t: t.details["destination"], required=True)
    destination_name = ma.fields.Function(lambda t: DESTINATIONS.get(t.details["destination"]), required=True)
    purpose = ma.fields.Function(lambda t: t.details["purpose"], required=True)
    purpose_note = ma.fields.Function(lambda t: t.details.get("purpose_note", ""), required=True)
    document_type = ma.fields.String(required=True)
    planned_departure = ma.fields.Function(lambda t: t.details["planned_departure"].isoformat(), required=True)
    planned_return = ma.fields.Function(lambda t: t.details["planned_return"].isoformat(), required=True)
    departed_on = ma.fields.Function(lambda t: _iso(t.details.get("departed_on")), allow_none=True)
    returned_on = ma.fields.Function(lambda t: _iso(t.details.get("returned_on")), allow_none=True)
    created_at = ma.fields.AwareDateTime(required=True)


def _iso(value):
    return value.isoformat() if value else None


class TripPageSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(TripSchema), required=True)
    next_cursor = ma.fields.Integer(allow_none=True, required=True)


class PageArgsSchema(ma.Schema):
    cursor = ma.fields.Integer(load_default=None, validate=ma.validate.Range(min=1, max=2**62))
    limit = ma.fields.Integer(load_default=20, validate=ma.validate.Range(min=1, max=100))


class TripCreateSchema(ma.Schema):
    destination = ma.fields.String(required=True, validate=ma.validate.OneOf(list(DESTINATIONS)))
    purpose = ma.fields.String(required=True, validate=ma.validate.OneOf(list(PURPOSES)))
    purpose_note = ma.fields.String(load_default="", validate=ma.validate.Length(max=200))
    document_type = ma.fields.String(required=True, validate=ma.validate.OneOf(list(DOCUMENTS)))
    planned_departure = ma.fields.Date(required=True)
    planned_return = ma.fields.Date(required=True)


class DepartSchema(ma.Schema):
    departed_on = ma.fields.Date(load_default=None)


class ReturnSchema(ma.Schema):
    returned_on = ma.fields.Date(required=True)
    departed_on = ma.fields.Date(
        load_default=None,
        metadata={"description": "实际出境日期；尚未标记出境的行程必填（一并记录出境和返回），已出境的可省略"},
    )


class ConsentSchema(ma.Schema):
    notice_version = ma.fields.String(required=True, validate=ma.validate.Length(max=16))


class ConsentStatusSchema(ma.Schema):
    notice_version = ma.fields.String(required=True)
    consented = ma.fields.Boolean(required=True)
    consented_at = ma.fields.AwareDateTime(allow_none=True)


def _consent_status():
    consent = travel_service.find_consent(current_veteran().id)
    return {
        "notice_version": travel_service.NOTICE_VERSION,
        "consented": consent is not None,
        "consented_at": consent.consented_at if consent else None,
    }


@bp.route("/travels/consent", methods=["GET"])
@bp.response(200, ConsentStatusSchema)
@errors(bp, *VETERAN_ERRORS)
def consent_status():
    """当前告知书版本及本人是否已单独同意。"""
    return _consent_status()


@bp.route("/travels/consent", methods=["POST"])
@bp.arguments(ConsentSchema)
@bp.response(200, ConsentStatusSchema)
@errors(bp, *VETERAN_ERRORS)
def give_consent(payload):
    """单独同意处理出入境信息（记录时间和告知书版本）。"""
    travel_service.give_consent(veteran=current_veteran(), actor=current_account(), **payload)
    return _consent_status()


@bp.route("/travels", methods=["GET"])
@bp.arguments(PageArgsSchema, location="query")
@bp.response(200, TripPageSchema)
@errors(bp, *VETERAN_ERRORS)
def list_trips(args):
    """本人的出行报备，按时间倒序。"""
    items, next_cursor = travel_service.list_own_trips(account=current_account(), **args)
    return {"items": items, "next_cursor": next_cursor}


@bp.route("/travels", methods=["POST"])
@bp.arguments(TripCreateSchema)
@bp.response(201, TripSchema)
@errors(bp, *VETERAN_ERRORS, "travel.consent_required")
def report(payload):
    """报备计划出行（出境前）。返回日期不能早于出境日期；最多提前一年报备。"""
    return travel_service.report_trip(account=current_account(), **payload)


@bp.route("/travels/<id:trip_id>/depart", methods=["POST"])
@bp.arguments(DepartSchema)
@bp.response(200, TripSchema)
@errors(bp, *VETERAN_ERRORS, "travel.not_found", "travel.invalid_state")
def depart(payload, trip_id):
    """标记已出境。"""
    return travel_service.mark_departed(account=current_account(), trip_id=trip_id, **payload)


@bp.route("/travels/<id:trip_id>/return", methods=["POST"])
@bp.arguments(ReturnSchema)
@bp.response(200, TripSchema)
@errors(bp, *VETERAN_ERRORS, "travel.not_found", "travel.invalid_state")
def report_return(payload, trip_id):
    """报告返回（实际返回日期）。尚未标记出境的行程须同时报告出境日期 departed_on，否则 409 travel.invalid_state。"""
    return travel_service.report_return(account=current_account(), trip_id=trip_id, **payload)


@bp.route("/travels/<id:trip_id>/cancel", methods=["POST"])
@bp.response(200, TripSchema)
@errors(bp, *VETERAN_ERRORS, "travel.not_found", "travel.invalid_state")
def cancel(trip_id):
    """取消尚未出行的报备。"""
    return travel_service.cancel_trip(account=current_account(), trip_id=trip_id)
