"""The source queries of the assessment indicators (registry: indicators.py): one set-based GROUP BY per source
table and year, returning {unit_id: (numerator, denominator)} or histogram rows (unit_id, bucket, n)."""

from datetime import UTC, date, datetime, time, timedelta, timezone

from sqlalchemy import and_, case, func, literal_column, select

from backend.archives.models import ArchiveInspection, ArchiveLocation
from backend.assistance.models import AssistanceCase
from backend.bookings.models import Booking, Slot
from backend.care.models import ContactPlan, ContactRecord
from backend.extensions import db
from backend.feedback.models import SATISFIED_MIN, Complaint, FeedbackCase, Rating
from backend.inbox.models import InboxMessage
from backend.onboarding.models import OnboardingStep
from backend.registration.models import Registration
from backend.staff.models import Staff
from backend.training.models import TrainingAttendance, TrainingSession
from backend.veterans.models import Veteran
from backend.visits.models import Visit

CST = timezone(timedelta(hours=8))


def year_bounds(year):
    """[start, end) of the CST calendar year, as aware UTC datetimes, and the dates."""
    start = datetime.combine(date(year, 1, 1), time(), tzinfo=CST).astimezone(UTC)
    end = datetime.combine(date(year + 1, 1, 1), time(), tzinfo=CST).astimezone(UTC)
    return start, end, date(year, 1, 1), date(year + 1, 1, 1)


def _pairs(rows):
    return {unit_id: (int(num or 0), int(den or 0)) for unit_id, num, den in rows if unit_id is not None}


def _run(query):
    return db.session.execute(query).all()


def active_veterans(_ctx):
    return {
        unit_id: n
        for unit_id, n in _run(
            select(Veteran.station_id, func.count()).where(Veteran.status == "active").group_by(Veteran.station_id)
        )
    }


def _with_active(numerators, ctx):
    """{unit: (numerator, active veterans)}: a per-station count over the station's active veterans."""
    active = ctx["active"]
    return {u: (numerators.get(u, 0), active.get(u, 0)) for u in set(numerators) | set(active)}


def registration_completion(ctx):
    approved = dict(
        _run(
            select(Veteran.station_id, func.count())
            .select_from(Registration)
            .join(Veteran, Veteran.id == Registration.veteran_id)
            .where(Registration.year == ctx["year"], Registration.status == "approved", Veteran.status == "active")
            .group_by(Veteran.station_id)
        )
    )
    return _with_active(approved, ctx)


def _seconds(later, earlier):
    if db.session.get_bind().dialect.name == "postgresql":
        return func.extract("epoch", later - earlier)
    return func.strftime("%s", later).cast(db.Integer) - func.strftime("%s", earlier).cast(db.Integer)


def review_hours(ctx):
    """Histogram rows (station, whole hours submitted → approved, n) of the year's approved registrations."""
    hours = func.floor(_seconds(Registration.decided_at, Registration.first_submitted_at) / literal_column("3600"))
    inner = (
        select(Veteran.station_id.label("unit"), hours.label("bucket"))
        .select_from(Registration)
        .join(Veteran, Veteran.id == Registration.veteran_id)
        .where(
            Registration.year == ctx["year"],
            Registration.status == "approved",
            Registration.decided_at.is_not(None),
            Registration.first_submitted_at.is_not(None),
        )
        .subquery()
    )
    return _run(select(inner.c.unit, inner.c.bucket, func.count()).group_by(inner.c.unit, inner.c.bucket))


def contact_coverage(ctx):
    contacted = dict(
        _run(
            select(Veteran.station_id, func.count(func.distinct(ContactRecord.veteran_id)))
            .select_from(ContactRecord)
            .join(Veteran, Veteran.id == ContactRecord.veteran_id)
            .where(ContactRecord.contact_on >= ctx["d0"], ContactRecord.contact_on < ctx["d1"])
            .where(Veteran.status == "active")
            .group_by(Veteran.station_id)
        )
    )
    return _with_active(contacted, ctx)


def contacts_overdue(ctx):
    """Plans of active veterans (still at the plan's station) due before today, over all such plans (as
    backend/care/figures.py lists them)."""
    live = and_(Veteran.id == ContactPlan.veteran_id, Veteran.station_id == ContactPlan.station_id)
    return _pairs(
        _run(
            select(ContactPlan.station_id, func.count().filter(ContactPlan.due_on < ctx["today"]), func.count())
            .join(Veteran, live)
            .where(Veteran.status == "active")
            .group_by(ContactPlan.station_id)
        )
    )


def visits_made(ctx):
    done = dict(
        _run(
            select(Visit.station_id, func.count())
            .where(Visit.status == "done", Visit.visited_on >= ctx["d0"], Visit.visited_on < ctx["d1"])
            .group_by(Visit.station_id)
        )
    )
    return _with_active(done, ctx)


def assistance_cases(ctx):
    made = dict(
        _run(
            select(AssistanceCase.station_id, func.count())
            .where(AssistanceCase.created_at >= ctx["t0"], AssistanceCase.created_at < ctx["t1"])
            .group_by(AssistanceCase.station_id)
        )
    )
    return _with_active(made, ctx)


def payment_days(ctx):
    """Histogram rows (station, whole days created (CST date) → paid_on, n) of cases paid in the year."""
    if db.session.get_bind().dialect.name == "postgresql":
        days = AssistanceCase.paid_on - func.date(func.timezone("Asia/Shanghai", AssistanceCase.created_at))
    else:
        days = func.julianday(AssistanceCase.paid_on) - func.julianday(func.date(AssistanceCase.created_at, "+8 hours"))
    inner = (
        select(AssistanceCase.station_id.label("unit"), func.cast(days, db.Integer).label("bucket"))
        .where(AssistanceCase.paid_on >= ctx["d0"], AssistanceCase.paid_on < ctx["d1"])
        .subquery()
    )
    return _run(select(inner.c.unit, inner.c.bucket, func.count()).group_by(inner.c.unit, inner.c.bucket))


def _bookings_in_year(ctx):
    return (Booking.starts_at >= ctx["t0"]) & (Booking.starts_at < ctx["t1"])


def bookings_served(ctx):
    served = dict(
        _run(
            select(Booking.station_id, func.count())
            .where(_bookings_in_year(ctx), Booking.status == "completed")
            .group_by(Booking.station_id)
        )
    )
    return _with_active(served, ctx)


def bookings_no_show(ctx):
    """No-shows over the bookings already settled (completed or no-show): future or pending ones are not counted."""
    return _pairs(
        _run(
            select(Booking.station_id, func.count().filter(Booking.status == "no_show"), func.count())
            .where(_bookings_in_year(ctx), Booking.status.in_(("completed", "no_show")))
            .group_by(Booking.station_id)
        )
    )


def bookings_utilisation(ctx):
    """Places taken (bookings not cancelled) over the capacity of the year's open slots."""
    taken = dict(
        _run(
            select(Booking.station_id, func.count())
            .where(_bookings_in_year(ctx), Booking.status != "cancelled")
            .group_by(Booking.station_id)
        )
    )
    capacity = dict(
        _run(
            select(Slot.station_id, func.sum(Slot.capacity))
            .where(Slot.starts_at >= ctx["t0"], Slot.starts_at < ctx["t1"], Slot.status == "open")
            .group_by(Slot.station_id)
        )
    )
    return {u: (taken.get(u, 0), int(capacity.get(u) or 0)) for u in set(taken) | set(capacity)}


def notifications_read(ctx):
    """Inbox entries of sent notifications (one per delivery) read by the veteran, over all such entries."""
    return _pairs(
        _run(
            select(Veteran.station_id, func.count(InboxMessage.read_at), func.count())
            .select_from(InboxMessage)
            .join(Veteran, Veteran.id == InboxMessage.veteran_id)
            .where(InboxMessage.notification_id.is_not(None))
            .where(InboxMessage.created_at >= ctx["t0"], InboxMessage.created_at < ctx["t1"])
            .group_by(Veteran.station_id)
        )
    )


def satisfaction(ctx):
    return _pairs(
        _run(
            select(Rating.station_id, func.count().filter(Rating.score >= SATISFIED_MIN), func.count())
            .where(Rating.created_at >= ctx["t0"], Rating.created_at < ctx["t1"])
            .group_by(Rating.station_id)
        )
    )


def complaints_in_time(ctx):
    """Complaints (投诉 only: not bad ratings, not suggestions) whose case closed in the year within its first
    deadline, over all such closed cases, credited to the unit that handled the case at closing."""
    in_time = case((FeedbackCase.closed_in_time.is_(True), 1), else_=0)
    return _pairs(
        _run(
            select(FeedbackCase.unit_id, func.sum(in_time), func.count())
            .join(Complaint, Complaint.id == FeedbackCase.complaint_id)
            .where(FeedbackCase.state == "closed", Complaint.kind == "complaint")
            .where(FeedbackCase.closed_at >= ctx["t0"], FeedbackCase.closed_at < ctx["t1"])
            .group_by(FeedbackCase.unit_id)
        )
    )


def grid_coverage(_ctx):
    """全覆盖 as backend/figures/rollup.py counts it: a station, a grid and a grid worker, over active veterans."""
    has_worker = func.coalesce(func.length(Veteran.grid_worker), 0) > 0
    return _pairs(
        _run(
            select(Veteran.station_id, func.count().filter(Veteran.grid_id.is_not(None), has_worker), func.count())
            .where(Veteran.status == "active")
            .group_by(Veteran.station_id)
        )
    )


def onboarding_on_time(ctx):
    on_time = case((OnboardingStep.done_on <= OnboardingStep.due_on, 1), else_=0)
    return _pairs(
        _run(
            select(OnboardingStep.station_id, func.sum(on_time), func.count())
            .where(OnboardingStep.due_on.is_not(None), OnboardingStep.done_on.is_not(None))
            .where(OnboardingStep.done_on >= ctx["d0"], OnboardingStep.done_on < ctx["d1"])
            .group_by(OnboardingStep.station_id)
        )
    )


def archive_inspections(ctx):
    """Per active archive room: inspections due in the year so far (days elapsed // interval, at least 1) and
    those done (capped at due), summed per keeping unit. One GROUP BY over rooms (a few per center)."""
    year_end = min(ctx["d1"], ctx["today"] + timedelta(days=1))
    elapsed = max((year_end - ctx["d0"]).days, 0)
    done = (
        select(ArchiveInspection.location_id, func.count().label("n"))
        .where(ArchiveInspection.inspected_on >= ctx["d0"], ArchiveInspection.inspected_on < ctx["d1"])
        .group_by(ArchiveInspection.location_id)
        .subquery()
    )
    rows = _run(
        select(ArchiveLocation.unit_id, ArchiveLocation.interval_days, func.coalesce(done.c.n, 0))
        .outerjoin(done, done.c.location_id == ArchiveLocation.id)
        .where(ArchiveLocation.active.is_(True), ArchiveLocation.created_at < ctx["t1"])
    )
    totals = {}
    for unit_id, interval, n in rows:
        due = max(elapsed // max(interval, 1), 1) if elapsed else 0
        num, den = totals.get(unit_id, (0, 0))
        totals[unit_id] = (num + min(n, due), den + due)
    return totals


def training_hours(ctx):
    """Hours (tenths) attended by the unit's active staff in the year, over its active staff."""
    hours = dict(
        _run(
            select(Staff.org_unit_id, func.sum(TrainingSession.hours_tenths))
            .select_from(TrainingAttendance)
            .join(TrainingSession, TrainingSession.id == TrainingAttendance.session_id)
            .join(Staff, Staff.id == TrainingAttendance.staff_id)
            .where(TrainingAttendance.result != "absent", Staff.is_active.is_(True))
            .where(TrainingSession.held_on >= ctx["d0"], TrainingSession.held_on < ctx["d1"])
            .group_by(Staff.org_unit_id)
        )
    )
    staff = dict(
        _run(select(Staff.org_unit_id, func.count()).where(Staff.is_active.is_(True)).group_by(Staff.org_unit_id))
    )
    return {u: (int(hours.get(u) or 0), staff.get(u, 0)) for u in set(hours) | set(staff)}
