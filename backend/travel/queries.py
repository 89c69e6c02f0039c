"""Scoped staff reads of trips: filtered lists and the Excel export (audited)."""

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from backend.audit import service as audit_service
from backend.db import transaction
from backend.exports import workbook_bytes
from backend.extensions import db
from backend.orgs.models import OrgUnit
from backend.orgs.scope import get_unit_in_scope, require_permission, scoped
from backend.travel.countries import DESTINATIONS, DOCUMENTS, PURPOSES
from backend.travel.models import Trip


@dataclass
class TripFilter:
    status: str | None = None
    unit_id: int | None = None
    destination: str | None = None
    date_from: date | None = None  # departures on or after
    date_to: date | None = None
    overdue: bool = False


def list_trips(*, actor, filters, limit=500):
    """Trips in scope, newest first. Dates and destinations are encrypted, so those filters apply after decryption
    of the (already scoped and status-filtered) rows."""
    require_permission(actor, "travel.view")
    query = scoped(select(Trip), actor, Trip.unit_id)
    if filters.unit_id:
        unit = get_unit_in_scope(actor, filters.unit_id)
        query = query.where(Trip.unit_id.in_(select(OrgUnit.id).where(OrgUnit.path.startswith(unit.path))))
    if filters.status:
        query = query.where(Trip.status == filters.status)
    if filters.overdue:
        query = query.where(Trip.overdue.is_(True))
    out = []
    for trip in db.session.scalars(query.order_by(Trip.id.desc())):
        data = trip.details
        if filters.destination and data["destination"] != filters.destination:
            continue
        if filters.date_from and data["planned_departure"] < filters.date_from:
            continue
        if filters.date_to and data["planned_departure"] > filters.date_to:
            continue
        out.append((trip, data))
        if len(out) >= limit:
            break
    return out


EXPORT_HEADER = ("姓名", "服务站", "目的地", "事由", "证件", "计划出境", "计划返回", "实际出境", "实际返回", "状态")


def _export_row(trip, data):
    return [
        trip.veteran.name,
        trip.veteran.station.name,
        DESTINATIONS.get(data["destination"]),
        PURPOSES.get(data["purpose"]),
        DOCUMENTS.get(trip.document_type),
        data["planned_departure"],
        data["planned_return"],
        data.get("departed_on"),
        data.get("returned_on"),
        trip.status_label,
        "是" if trip.overdue else "",
    ]


def export_trips(*, actor, filters):
    """The filtered list as .xlsx bytes (through backend/exports.py); the export is audited with its row count."""
    rows = list_trips(actor=actor, filters=filters, limit=100_000)
    content = workbook_bytes([("出入境报备", [*EXPORT_HEADER, "逾期"], (_export_row(t, d) for t, d in rows))])
    with transaction():
        audit_service.record(actor=actor, action="travel.export", object_type="trip", details={"rows": len(rows)})
    return content


# --- workbench slice (issue 11)


def count_overdue(*, actor, cap=1000):
    """Overdue trips in scope, capped: the same rows as the list filtered by 逾期 (TripFilter(overdue=True))."""
    from backend.counting import capped_count

    require_permission(actor, "travel.view")
    return capped_count(scoped(select(Trip.id).where(Trip.overdue.is_(True)), actor, Trip.unit_id), cap)
