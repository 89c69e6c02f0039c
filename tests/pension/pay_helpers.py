"""Helpers of the part-1 pay tests (issue 18): a started veteran with amounts, set through the services."""

from datetime import date

from backend.pension import profile, states
from backend.pension.amounts import first_of_month
from backend.registration.windows import today_cst
from tests.factories import create_veteran


def this_month():
    return first_of_month(today_cst())


def started_veteran(world, *, start_on=date(2024, 1, 1), base="3000", allowance=None, station=None, **fields):
    """A veteran at X1 (or `station`) whose pay started on `start_on`, with a base amount (central) from that month
    and optionally an allowance (local); set by staff_x through the services."""
    veteran = create_veteran(station=station or world.x1, placement_date=start_on, **fields)
    states.start(actor=world.staff_x, veteran_id=veteran.id)
    month = start_on.strftime("%Y-%m")
    set_amount(world, veteran, "base", base, month, "central")
    if allowance:
        set_amount(world, veteran, "allowance", allowance, month, "local")
    return veteran


def version(veteran):
    return profile.profile_of(veteran.id).version_id


def set_amount(world, veteran, component, yuan, month, funding="central"):
    return profile.set_amount(
        actor=world.staff_x,
        veteran_id=veteran.id,
        expected_version=version(veteran),
        component=component,
        amount=yuan,
        funding=funding,
        month=month,
    )


def suspend(world, veteran, on, reason="public_post"):
    return states.change(
        actor=world.staff_x,
        veteran_id=veteran.id,
        expected_version=version(veteran),
        action="suspend",
        reason=reason,
        effective_on=on,
    )
