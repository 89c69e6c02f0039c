"""The 出入境报备 export kind: the travel list with its filters, every trip decrypted in the worker."""

from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from backend import pii
from backend.exports.registry import Source, export_kind, keyset_batches
from backend.extensions import db
from backend.orgs.models import OrgUnit
from backend.orgs.scope import get_unit_in_scope
from backend.travel.countries import DESTINATIONS, DOCUMENTS, PURPOSES
from backend.travel.models import CONTEXT, STATUS_LABELS, Trip
from backend.travel.queries import EXPORT_HEADER, TripFilter
from backend.veterans.models import Veteran

DATE_KEYS = ("planned_departure", "planned_return", "departed_on", "returned_on")


def _int(value):
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def _date(value):
    try:
        return date.fromisoformat(value) if value else None
    except (TypeError, ValueError):
        return None


def parse_filters(params):
    """The list page's filters from plain values; anything unknown is dropped (as the list page does)."""
    return TripFilter(
        status=params.get("status") if params.get("status") in STATUS_LABELS else None,
        unit_id=_int(params.get("unit")),
        destination=params.get("destination") if params.get("destination") in DESTINATIONS else None,
        date_from=_date(params.get("date_from")),
        date_to=_date(params.get("date_to")),
        overdue=str(params.get("overdue")) in ("1", "True", "true"),
    )


def _params(f):
    values = {"status": f.status, "unit": f.unit_id, "destination": f.destination, "overdue": f.overdue or None}
    values.update(date_from=f.date_from and f.date_from.isoformat(), date_to=f.date_to and f.date_to.isoformat())
    return {k: v for k, v in values.items() if v}


def _rows(query, f):
    for _, sealed, document, status, overdue, name, station in keyset_batches(query, Trip.id):
        data = pii.decrypt_json(sealed, context=CONTEXT)
        for key in DATE_KEYS:
            if data.get(key):
                data[key] = date.fromisoformat(data[key])
        if f.destination and data["destination"] != f.destination:
            continue
        if f.date_from and data["planned_departure"] < f.date_from:
            continue
        if f.date_to and data["planned_departure"] > f.date_to:
            continue
        yield [
            name,
            station,
            DESTINATIONS.get(data["destination"]),
            PURPOSES.get(data["purpose"]),
            DOCUMENTS.get(document),
            data["planned_departure"],
            data["planned_return"],
            data.get("departed_on"),
            data.get("returned_on"),
            STATUS_LABELS.get(status, status),
            "是" if overdue else "",
        ]


@export_kind("travel", permission="travel.view", title="出入境报备")
def travel_export(actor, params):
    """Trips in the actor's subtree (or the unit asked for), oldest first. :raises OrgUnitNotFound:"""
    f = parse_filters(params)
    unit = get_unit_in_scope(actor, f.unit_id or actor.org_unit_id)
    station = aliased(OrgUnit)
    subtree = select(OrgUnit.id).where(OrgUnit.path.startswith(unit.path, autoescape=True))
    conds = [Trip.unit_id.in_(subtree)]
    if f.status:
        conds.append(Trip.status == f.status)
    if f.overdue:
        conds.append(Trip.overdue.is_(True))
    query = (
        select(Trip.id, Trip.sealed, Trip.document_type, Trip.status, Trip.overdue, Veteran.name, station.name)
        .join(Veteran, Veteran.id == Trip.veteran_id)
        .join(station, station.id == Veteran.station_id)
        .where(*conds)
    )
    return Source(
        header=[*EXPORT_HEADER, "逾期"],
        rows=_rows(query, f),
        params=_params(f),
        unit_id=unit.id,
        count=lambda: db.session.scalar(select(func.count()).select_from(Trip).where(*conds)),
    )
