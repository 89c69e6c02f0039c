"""The registration window as data: 1 January – 31 March (China Standard Time, both days included) unless an
administrator extended it for the year, system-wide or for a unit's subtree. Extensions only ever lengthen the
window (a shorter date is refused), and a veteran gets the most generous one that covers their unit.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone

from sqlalchemy import select

from backend.audit import service as audit_service
from backend.db import transaction
from backend.errors import ValidationFailed
from backend.extensions import db
from backend.orgs.models import OrgUnit
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
    """The window in force for `year` for a veteran of `unit` (a grid or station) or, without a unit, system-wide:
    the earliest opening and latest close among the system-wide row and the rows of the unit's ancestors."""
    rows = [
        (row.opens_on, row.closes_on)
        for row in db.session.scalars(select(RegistrationWindow).where(RegistrationWindow.year == year))
        if row.unit_id is None or (unit is not None and unit.path.startswith(row.unit.path))
    ]
    return _combine(year, rows)


def _combine(year, rows):
    """The window from the (opens_on, closes_on) rows covering a unit: the default without any."""
    if not rows:
        return Window(year, date(year, 1, 1), date(year, 3, 31), False)
    return Window(year, min(r[0] for r in rows), max(r[1] for r in rows), True)


def unit_windows(year):
    """{unit id: Window} for every unit, the same rule as window_for, in two queries (the scheduled jobs read it once
    per run). A unit without a row of its own shares its parent's Window: computed once per defining unit."""
    extensions = {}
    system = []
    for unit_id, path, opens_on, closes_on in db.session.execute(
        select(RegistrationWindow.unit_id, OrgUnit.path, RegistrationWindow.opens_on, RegistrationWindow.closes_on)
        .outerjoin(OrgUnit, OrgUnit.id == RegistrationWindow.unit_id)
        .where(RegistrationWindow.year == year)
    ):
        (system if unit_id is None else extensions.setdefault(path, [])).append((opens_on, closes_on))
    result, by_path = {}, {}
    for unit_id, path in db.session.execute(select(OrgUnit.id, OrgUnit.path).order_by(OrgUnit.depth)):
        parent_path = path[: path.rstrip("/").rfind("/") + 1]
        inherited = by_path.get(parent_path)
        if path in extensions or inherited is None:
            rows = [*system, *(r for p, rs in extensions.items() if path.startswith(p) for r in rs)]
            inherited = _combine(year, rows)
        by_path[path] = result[unit_id] = inherited
    return result


def _date_text(day):
    return f"{day.year}年{day.month}月{day.day}日"


def set_window(*, actor, year, closes_on, opens_on=None, unit_id=None):
    """Extend a year's window for the whole system (unit_id None, root units only) or a unit's subtree (a
    non-root administrator's default is their own unit). A date that would shorten the window in force there is
    refused: an extension may be repeated or lengthened, never taken back.

    :raises PermissionDenied, OrgUnitNotFound, ValidationFailed
    """
    require_permission(actor, "registration.windows")
    with transaction():
        if unit_id is None and actor.org_unit.parent_id is not None:
            unit_id = actor.org_unit_id
        unit = get_unit_in_scope(actor, unit_id) if unit_id is not None else None
        unit_id = unit.id if unit else None
        current = window_for(year, unit)
        opens_on = opens_on or current.opens_on
        if closes_on.year != year or opens_on.year != year:
            raise ValidationFailed(details={"closes_on": f"截止日期须在{year}年度内"})
        if closes_on < current.closes_on:
            raise ValidationFailed(
                details={
                    "closes_on": f"不能早于现在的截止日期{_date_text(current.closes_on)}：办理时间只能延长，不能缩短"
                }
            )
        if opens_on > current.opens_on:
            raise ValidationFailed(details={"opens_on": f"不能晚于现在的开始日期{_date_text(current.opens_on)}"})
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


def extension_units(*, actor):
    """Every unit in the actor's subtree a window can be extended for, down to the stations (grids take their
    station's), ordered as a tree."""
    require_permission(actor, "registration.windows")
    return db.session.scalars(
        select(OrgUnit)
        .where(OrgUnit.path.startswith(actor.scope_path, autoescape=True), OrgUnit.level != "grid")
        .order_by(OrgUnit.path)
    ).all()
