"""A small hand-counted world for the assessment figures: two stations under county X (x1, x2) and one under Y (y1),
rows written directly into each source table. Expected values are worked out in the tests' docstrings."""

from datetime import UTC, date, datetime, timedelta

from backend.archives.models import ArchiveInspection, ArchiveLocation
from backend.assistance.models import AssistanceCase
from backend.bookings.models import Booking, BookingService, Slot
from backend.care.models import ContactPlan, ContactRecord
from backend.db import transaction
from backend.extensions import db
from backend.feedback.models import Complaint, FeedbackCase, Rating
from backend.inbox.models import InboxMessage
from backend.notifications.models import Notification
from backend.onboarding.models import STEPS, OnboardingCase, OnboardingStep
from backend.registration.models import Registration
from backend.registration.windows import today_cst
from backend.training.models import TrainingAttendance, TrainingSession
from backend.visits.models import Visit, VisitCampaign
from tests.factories import create_staff, create_unit, create_veteran

YEAR = today_cst().year
TODAY = today_cst()


def at(month, day, hour=10, year=YEAR):
    """A UTC instant inside `year` (CST day = UTC day for 10:00 UTC)."""
    return datetime(year, month, day, hour, tzinfo=UTC)


def build(world):
    """x1: 4 active veterans (2 with grid + worker) + 1 inactive; x2: 2 active; y1: 1 active."""
    w = world
    w.units["x2"] = create_unit(parent=w.x, name="白云镇服务站")
    w.units["x2_grid"] = create_unit(parent=w.x2, name="白云镇第一网格")
    x1 = [create_veteran(station=w.x1, grid=w.x1_grid, grid_worker="张网格") for _ in range(2)]
    x1 += [create_veteran(station=w.x1) for _ in range(2)]
    inactive = create_veteran(station=w.x1)
    x2 = [create_veteran(station=w.x2, grid=w.x2_grid, grid_worker="李网格"), create_veteran(station=w.x2)]
    y1 = [create_veteran(station=w.y1)]
    with transaction():
        inactive.status = "deceased"
    w.objects.update(vx1=x1, vx2=x2, vy1=y1, inactive=inactive)
    with transaction():
        _registrations(w, x1, x2, inactive)
        _care(w, x1, x2)
        _visits_and_assistance(w, x1, x2)
        _bookings(w, x1, x2)
        _inbox(w, x1, x2)
        _feedback(w, x1, x2)
        _onboarding_archives_training(w, x1, x2)
    return w


def _registrations(w, x1, x2, inactive):
    """x1: 3 approved this year (review hours 2, 10, 30) + 1 submitted; inactive approved (not counted); last year 1.
    x2: 1 approved (review 4 h). Completion x1 3/4, x2 1/2, X 4/6. Medians: x1 10, x2 4, X (2, 4, 10, 30) → 7."""
    for veteran, hours in zip(x1[:3], (2, 10, 30), strict=True):
        db.session.add(_registration(veteran, "approved", hours))
    db.session.add(_registration(x1[3], "submitted", None))
    db.session.add(_registration(inactive, "approved", 1))
    db.session.add(_registration(x1[0], "approved", 1, year=YEAR - 1))
    db.session.add(_registration(x2[0], "approved", 4))


def _registration(veteran, status, hours, year=YEAR):
    start = at(2, 1, year=year)
    return Registration(
        veteran_id=veteran.id, unit_id=veteran.unit_id, year=year, status=status, first_submitted_at=start,
        submitted_at=start, decided_at=start + timedelta(hours=hours) if hours is not None else None,
    )  # fmt: skip


def _care(w, x1, x2):
    """Contacts this year: x1 two veterans (one twice), x2 none; one last year. Plans: x1 4 plans, 1 overdue."""
    staff = w.staff_x
    for veteran, day in ((x1[0], date(YEAR, 1, 5)), (x1[0], date(YEAR, 1, 6)), (x1[1], date(YEAR, 1, 7))):
        db.session.add(ContactRecord(veteran_id=veteran.id, station_id=w.x1.id, contact_on=day, way="phone",
                                     staff_id=staff.id))  # fmt: skip
    db.session.add(ContactRecord(veteran_id=x2[0].id, station_id=w.x2.id, contact_on=date(YEAR - 1, 12, 30),
                                 way="phone", staff_id=staff.id))  # fmt: skip
    for i, veteran in enumerate(x1):
        due = TODAY - timedelta(days=3) if i == 0 else TODAY + timedelta(days=30)
        db.session.add(ContactPlan(veteran_id=veteran.id, station_id=w.x1.id, unit_path=w.x1.path, base_on=TODAY,
                                   due_on=due))  # fmt: skip


def _visits_and_assistance(w, x1, x2):
    """Visits done this year: x1 2, x2 1 (+1 planned). Cases this year: x1 1 paid after 6 days, x2 1 paid after 2 days
    and 1 submitted. Medians: x1 6, x2 2, X 4."""
    db.session.flush()
    campaign = VisitCampaign(unit_id=w.x.id, name="春节走访", starts_on=date(YEAR, 1, 1), ends_on=date(YEAR, 1, 31),
                             created_by_id=w.staff_x.id)  # fmt: skip
    db.session.add(campaign)
    db.session.flush()
    for veteran, station, status in ((x1[0], w.x1, "done"), (x1[1], w.x1, "done"), (x2[0], w.x2, "done"),
                                     (x2[1], w.x2, "planned")):  # fmt: skip
        db.session.add(Visit(campaign_id=campaign.id, veteran_id=veteran.id, station_id=station.id, status=status,
                             visited_on=date(YEAR, 1, 10) if status == "done" else None))  # fmt: skip
    for veteran, station, days, status in ((x1[0], w.x1, 6, "paid"), (x2[0], w.x2, 2, "paid"),
                                           (x2[1], w.x2, None, "submitted")):  # fmt: skip
        db.session.add(AssistanceCase(
            veteran_id=veteran.id, station_id=station.id, category="other", status=status, description_sealed="s",
            created_at=at(1, 10), paid_on=date(YEAR, 1, 10) + timedelta(days=days) if days else None,
            paid_amount_fen=100 if days else None, approved_amount_fen=100 if days else None,
            funding_source="local" if days else None, budget_year=YEAR if days else None,
        ))  # fmt: skip


def _bookings(w, x1, x2):
    """x1: one open slot (capacity 5) with 3 bookings: completed, no_show, cancelled; a cancelled slot (capacity 5).
    Served x1 1; no-shows 1/2; utilisation 2/5."""
    service = BookingService(station_id=w.x1.id, name="证明开具")
    db.session.add(service)
    db.session.flush()
    slot = Slot(service_id=service.id, station_id=w.x1.id, starts_at=at(1, 8), ends_at=at(1, 8, 11), capacity=5)
    gone = Slot(service_id=service.id, station_id=w.x1.id, starts_at=at(1, 9), ends_at=at(1, 9, 11), capacity=5,
                status="cancelled")  # fmt: skip
    db.session.add_all([slot, gone])
    db.session.flush()
    for i, status in enumerate(("completed", "no_show", "cancelled")):
        db.session.add(Booking(veteran_id=x1[i].id, service_id=service.id, slot_id=slot.id, station_id=w.x1.id,
                               starts_at=slot.starts_at, code=f"C{YEAR}{i}", status=status))  # fmt: skip


def _inbox(w, x1, x2):
    """Inbox entries of a notification: x1 3 (2 read), x2 1 (unread); a system message without a notification."""
    notification = Notification(kind="general", title="通知", body="正文", status="done")
    db.session.add(notification)
    db.session.flush()
    for veteran, read in ((x1[0], True), (x1[1], True), (x1[2], False), (x2[0], False)):
        db.session.add(InboxMessage(veteran_id=veteran.id, kind="notice", title="通知", body="正文",
                                    notification_id=notification.id, created_at=at(3, 1),
                                    read_at=at(3, 2) if read else None))  # fmt: skip
    db.session.add(InboxMessage(veteran_id=x1[3].id, kind="system", title="系统", body="正文", created_at=at(3, 1)))


def _feedback(w, x1, x2):
    """Ratings: x1 5, 4, 2 (2/3 satisfied); x2 3 (0/1). Cases closed this year about x1: 1 in time, 1 late."""
    ratings = []
    for veteran, station, score in ((x1[0], w.x1, 5), (x1[1], w.x1, 4), (x1[2], w.x1, 2), (x2[0], w.x2, 3)):
        rating = Rating(veteran_id=veteran.id, subject="booking", subject_id=veteran.id, station_id=station.id,
                        score=score, created_at=at(4, 1))  # fmt: skip
        db.session.add(rating)
        ratings.append(rating)
    db.session.flush()
    complaint = Complaint(veteran_id=x1[3].id, kind="complaint", unit_id=w.x1.id, text_sealed="s", created_at=at(4, 1))
    db.session.add(complaint)
    db.session.flush()
    for source, in_time in (("rating", True), ("complaint", False)):
        db.session.add(FeedbackCase(source=source, rating_id=ratings[2].id if source == "rating" else None,
                                    complaint_id=complaint.id if source == "complaint" else None, veteran_id=x1[2].id,
                                    subject_unit_id=w.x1.id, unit_id=w.x.id, state="closed", due_on=date(YEAR, 4, 8),
                                    first_due_on=date(YEAR, 4, 8),
                                    closed_at=at(4, 5), closed_in_time=in_time))  # fmt: skip


def _onboarding_archives_training(w, x1, x2):
    """Onboarding steps done this year at x1: 2 on time, 1 late. Archive room at X (every 365 days): due 1, done 1.
    Training: a 3.5 h session this year attended by staff_x (X has 1 active staff besides others? see test)."""
    case = OnboardingCase(veteran_id=x1[0].id, station_id=w.x1.id, arrived_on=date(YEAR, 1, 2),
                          opened_by_id=w.staff_x.id)  # fmt: skip
    db.session.add(case)
    db.session.flush()
    for i, (due, done) in enumerate(((5, 4), (5, 5), (5, 9))):
        db.session.add(OnboardingStep(case_id=case.id, station_id=w.x1.id, step=STEPS[i], state="done",
                                      due_on=date(YEAR, 1, due), done_on=date(YEAR, 1, done)))  # fmt: skip
    room = ArchiveLocation(unit_id=w.x.id, name="一号档案室", interval_days=365, next_due_on=date(YEAR + 1, 1, 1),
                           created_at=at(1, 1))  # fmt: skip
    db.session.add(room)
    db.session.flush()
    db.session.add(ArchiveInspection(location_id=room.id, inspected_on=date(YEAR, 1, 3), inspector_id=w.staff_x.id))
    w.staff["trainee"] = create_staff(unit=w.x, roles=("station_staff",))
    session = TrainingSession(unit_id=w.x.id, kind="business", topic="业务", held_on=date(YEAR, 1, 4),
                              hours_tenths=35, created_by_id=w.staff_x.id)  # fmt: skip
    db.session.add(session)
    db.session.flush()
    db.session.add(TrainingAttendance(session_id=session.id, staff_id=w.staff_x.id, result="pass"))
    db.session.add(TrainingAttendance(session_id=session.id, staff_id=w.trainee.id, result="absent"))
