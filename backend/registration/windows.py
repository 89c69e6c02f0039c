"""The registration window as data: 1 January – 31 March (China Standard Time, both days included) unless an
administrator set another for the year, system-wide or for a unit's subtree (the nearest unit wins)."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone

from sqlalchemy import select

from backend.audit import service as audit_service
from backend.db import transaction
from backend.errors import ValidationFailed
from backend.extensions import db
from backend.orgs.scope import get_unit_in_scope, require_permission
from backend.registration.models import RegistrationWindow

CST = timezone(timedelta(hours=8))


def today_cst(now=None):
    return (now or datetime.now(UTC)).astimezone(CST).date()


@dataclass(frozen=True)
class Window:
    year: int
    opens_on: date
    closes_on: date
    extended: bool

    def is_open(self, day):
        return self.opens_on <= day <= self.closes_on

    def to_dict(self):
        return {"year": self.year, "opens_on": self.opens_on, "closes_on": self.closes_on, "extended": self.extended}


def window_for(year, unit=None):
    """The window in force for `year` for a veteran of `unit` (a grid or station) or, without a unit, system-wide."""
    rows = db.session.scalars(select(RegistrationWindow).where(RegistrationWindow.year == year)).all()
    best = None
    for row in rows:
        if row.unit_id is None:
            if best is None:
                best = row
        elif unit is not None and unit.path.startswith(row.unit.path):
            if best is None or best.unit_id is None or len(row.unit.path) > len(best.unit.path):
                best = row
    if best is None:
        return Window(year, date(year, 1, 1), date(year, 3, 31), False)
    return Window(year, best.opens_on, best.closes_on, True)


def set_window(*, actor, year, closes_on, opens_on=None, unit_id=None):
    """Set (usually extend) a year's window for the whole system (unit_id None, root units only) or a unit's subtree.

    :raises PermissionDenied, OrgUnitNotFound, ValidationFailed
    """
    require_permission(actor, "registration.windows")
    opens_on = opens_on or date(year, 1, 1)
    if closes_on < opens_on or opens_on.year != year or closes_on.year != year:
        raise ValidationFailed(details={"closes_on": "截止日期须在开始日期之后，且在同一年度内"})
    with transaction():
        if unit_id is None:
            if actor.org_unit.parent_id is not None:
                unit_id = actor.org_unit_id  # a non-root administrator sets it for their own subtree
        if unit_id is not None:
            get_unit_in_scope(actor, unit_id)
        row = db.session.scalars(
            select(RegistrationWindow).where(RegistrationWindow.year == year, RegistrationWindow.unit_id == unit_id)
        ).first()
        if row is None:
            row = RegistrationWindow(year=year, unit_id=unit_id)
            db.session.add(row)
        row.opens_on, row.closes_on, row.set_by_id = opens_on, closes_on, actor.id
        db.session.flush()
        audit_service.record(
            actor=actor,
            action="registration.window",
            object_type="registration_window",
            object_id=row.id,
            details={"year": year, "unit_id": unit_id, "closes_on": closes_on.isoformat()},
        )
    return row


def list_windows(*, actor, year):
    require_permission(actor, "registration.windows")
    rows = db.session.scalars(
        select(RegistrationWindow).where(RegistrationWindow.year == year).order_by(RegistrationWindow.id)
    ).all()
    return [r for r in rows if r.unit is None or r.unit.path.startswith(actor.scope_path)]
