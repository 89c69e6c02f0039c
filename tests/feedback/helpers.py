"""Shared helpers of the feedback tests: a veteran at X1 with an account, service events to rate, cases."""

from datetime import timedelta

from backend.care.models import ContactRecord
from backend.db import transaction
from backend.extensions import db
from backend.feedback import complaints, ratings
from backend.registration.windows import today_cst
from tests.factories import create_staff, create_veteran
from tests.registration.helpers import account_for


def veteran_with_account(world, station=None):
    veteran = create_veteran(station=station or world.x1, grid=None if station else world.x1_grid)
    return veteran, account_for(veteran)


def contact(veteran, staff, *, days_ago=1):
    """A contact record (常态化联系) of `staff` with `veteran`: a rateable event."""
    with transaction():
        record = ContactRecord(
            veteran_id=veteran.id,
            station_id=veteran.station_id,
            contact_on=today_cst() - timedelta(days=days_ago),
            way="phone",
            staff_id=staff.id,
            flags=[],
        )
        db.session.add(record)
    return record


def station_worker(world):
    """A station staff member of X1 who serves veterans (and may be complained about)."""
    return create_staff(unit=world.x1, roles=("station_staff",))


def bad_rating(world, score=1, comment="态度很差"):
    veteran, account = veteran_with_account(world)
    record = contact(veteran, world.target)  # a station worker of X1: the case goes to county X
    rating, case = ratings.rate(account=account, subject="contact", subject_id=record.id, score=score, comment=comment)
    return veteran, account, rating, case


def complaint_about(world, staff, text="服务站工作人员推诿"):
    """A complaint about `staff`, who served the veteran (a contact)."""
    veteran, account = veteran_with_account(world)
    contact(veteran, staff)
    complaint, case = complaints.submit(account=account, kind="complaint", about="staff", staff_id=staff.id, text=text)
    return veteran, account, complaint, case


def colleague(world):
    """Another handler (center reviewer) of county X."""
    return create_staff(unit=world.x, roles=("center_reviewer",))
