"""The service events a veteran may rate, computed from the source tables (no hooks in the capabilities that serve):
served bookings, approved registrations, closed assistance cases, contacts (care_contact) and visits made, of the
last PENDING_DAYS days, that the veteran has not rated yet. Each source reads the veteran's own rows through its
veteran index, newest first and bounded, so the answer stays cheap however long the history.

The staff members and stations a veteran may complain about are the ones that served those events (TARGET_DAYS).
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import case, exists, select

from backend.assistance.models import AssistanceCase
from backend.bookings.models import Booking, BookingService
from backend.care.models import ContactRecord
from backend.extensions import db
from backend.feedback.models import Rating
from backend.feedback.rules import PENDING_DAYS, SUBJECT_LABELS, TARGET_DAYS, EventNotFound
from backend.orgs.models import OrgUnit
from backend.registration.models import Registration
from backend.registration.windows import CST, today_cst
from backend.staff.models import Staff
from backend.veterans.models import Veteran
from backend.visits.models import Visit

PER_SOURCE = 20


@dataclass
class Event:
    subject: str
    subject_id: int
    station_id: int
    staff_id: int | None
    title: str
    on: date


def _day(value):
    if isinstance(value, datetime):
        return value.astimezone(CST).date()
    return value


def _start(day):
    return datetime.combine(day, time.min, CST)


def _queries(veteran_id, since):
    """(subject, query of (id, station_id, staff_id, title part, when)) per source, the veteran's own rows since
    `since` (a CST date)."""
    # A registration belongs to the unit the veteran was at when it was made (its unit_id: a station or a grid),
    # never to where the veteran lives now.
    station = case((OrgUnit.level == "grid", OrgUnit.parent_id), else_=OrgUnit.id)
    return (
        (
            "booking",
            select(Booking.id, Booking.station_id, Booking.handled_by_id, BookingService.name, Booking.completed_at)
            .join(BookingService, BookingService.id == Booking.service_id)
            .where(Booking.veteran_id == veteran_id, Booking.status == "completed")
            .where(Booking.completed_at >= _start(since)),
            Booking.id,
        ),
        (
            "registration",
            select(Registration.id, station, Registration.reviewer_id, Registration.year, Registration.decided_at)
            .join(OrgUnit, OrgUnit.id == Registration.unit_id)
            .where(Registration.veteran_id == veteran_id, Registration.status == "approved")
            .where(Registration.decided_at >= _start(since)),
            Registration.id,
        ),
        (
            "assistance",
            select(
                AssistanceCase.id,
                AssistanceCase.station_id,
                AssistanceCase.approved_by_id,
                AssistanceCase.category,
                AssistanceCase.closed_on,
            ).where(
                AssistanceCase.veteran_id == veteran_id,
                AssistanceCase.status == "closed",
                AssistanceCase.closed_on >= since,
            ),
            AssistanceCase.id,
        ),
        (
            "contact",
            select(
                ContactRecord.id,
                ContactRecord.station_id,
                ContactRecord.staff_id,
                ContactRecord.way,
                ContactRecord.contact_on,
            ).where(ContactRecord.veteran_id == veteran_id, ContactRecord.contact_on >= since),
            ContactRecord.id,
        ),
        (
            "visit",
            select(Visit.id, Visit.station_id, Visit.staff_id, Visit.campaign_id, Visit.visited_on).where(
                Visit.veteran_id == veteran_id, Visit.status == "done", Visit.visited_on >= since
            ),
            Visit.id,
        ),
    )


def _title(subject, part):
    if subject == "booking":
        return f"预约服务：{part}"
    if subject == "registration":
        return f"{part}年度确认（已通过）"
    if subject == "assistance":
        from backend.assistance.rules import CATEGORY_LABELS

        return f"帮扶援助：{CATEGORY_LABELS.get(part, '其他')}（已办结）"
    return SUBJECT_LABELS[subject]


def _unrated(subject, id_column, veteran_id):
    return ~exists(
        select(Rating.id).where(
            Rating.subject == subject, Rating.subject_id == id_column, Rating.veteran_id == veteran_id
        )
    )


def pending(veteran_id, *, limit=50):
    """The veteran's events of the last PENDING_DAYS days not rated yet, newest first (at most `limit`)."""
    since = today_cst() - timedelta(days=PENDING_DAYS)
    events = []
    for subject, query, id_column in _queries(veteran_id, since):
        query = query.where(_unrated(subject, id_column, veteran_id)).order_by(id_column.desc()).limit(PER_SOURCE)
        for row in db.session.execute(query):
            events.append(Event(subject, row[0], row[1], row[2], _title(subject, row[3]), _day(row[4])))
    events.sort(key=lambda e: (e.on, e.subject_id), reverse=True)
    return events[:limit]


def find_event(veteran_id, subject, subject_id):
    """The veteran's own rateable event. :raises EventNotFound: another's, too old, not served, unknown."""
    since = today_cst() - timedelta(days=PENDING_DAYS)
    for name, query, id_column in _queries(veteran_id, since):
        if name == subject:
            row = db.session.execute(query.where(id_column == subject_id)).first()
            if row is not None:
                return Event(subject, row[0], row[1], row[2], _title(subject, row[3]), _day(row[4]))
    raise EventNotFound()


def targets(veteran_id):
    """({station_id: name}, {staff_id: full name}) of the units and staff that served the veteran (TARGET_DAYS),
    the veteran's own station first."""
    since = today_cst() - timedelta(days=TARGET_DAYS)
    station_ids, staff_ids = [], []
    own = db.session.scalar(select(Veteran.station_id).where(Veteran.id == veteran_id))
    if own:
        station_ids.append(own)
    for _subject, query, id_column in _queries(veteran_id, since):
        for row in db.session.execute(query.order_by(id_column.desc()).limit(PER_SOURCE)):
            if row[1] and row[1] not in station_ids:
                station_ids.append(row[1])
            if row[2] and row[2] not in staff_ids:
                staff_ids.append(row[2])
    units = dict(db.session.execute(select(OrgUnit.id, OrgUnit.name).where(OrgUnit.id.in_(station_ids))).all())
    people = dict(
        db.session.execute(
            select(Staff.id, Staff.full_name).where(Staff.id.in_(staff_ids), Staff.is_active.is_(True))
        ).all()
    )
    return {i: units[i] for i in station_ids if i in units}, {i: people[i] for i in staff_ids if i in people}
