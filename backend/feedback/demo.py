"""Demo data of feedback (issue 20): contacts of 青山镇's veterans rated on the phone (good and bad), cases of the bad
ones at 青山县 (one open, one overdue — the hourly job moves it up to 秦川市 at the first tick —, one closed in time),
and a complaint about the station's staff member, hidden from that person."""

from datetime import timedelta

from sqlalchemy import select

from backend import pii
from backend.care.models import ContactRecord
from backend.db import utcnow
from backend.extensions import db
from backend.feedback.models import Complaint, FeedbackCase, FeedbackCaseEvent, Rating
from backend.feedback.rules import add_working_days
from backend.registration.windows import today_cst
from backend.staff.models import Staff
from backend.veterans.models import Veteran

SCORES = (5, 5, 4, 3, 5, 4, 2, 1, 2)
COMMENTS = {2: "办事拖拉，来回跑了三次", 1: "电话里态度生硬"}


def _case(rating_or_complaint, veteran, station, county, *, days_ago, subject_staff_id=None):
    today = today_cst()
    opened = utcnow() - timedelta(days=days_ago)
    is_rating = isinstance(rating_or_complaint, Rating)
    case = FeedbackCase(
        source="rating" if is_rating else "complaint",
        rating_id=rating_or_complaint.id if is_rating else None,
        complaint_id=None if is_rating else rating_or_complaint.id,
        veteran_id=veteran.id,
        subject_unit_id=station.id,
        subject_staff_id=subject_staff_id,
        unit_id=county.id,
        state="open",
        escalations=0,
        opened_at=opened,
        due_on=add_working_days(today - timedelta(days=days_ago), 5),
        first_due_on=add_working_days(today - timedelta(days=days_ago), 5),
    )
    db.session.add(case)
    db.session.flush()
    db.session.add(FeedbackCaseEvent(case_id=case.id, action="opened", to_unit_id=county.id, occurred_at=opened))
    return case


def load(units):
    station, county = units["青山镇退役军人服务站"], units["青山县"]
    worker = db.session.scalars(select(Staff).where(Staff.username == "station")).first()
    reviewer = db.session.scalars(select(Staff).where(Staff.username == "reviewer")).first()
    veterans = db.session.scalars(
        select(Veteran).where(Veteran.station_id == station.id).order_by(Veteran.id).limit(len(SCORES) + 1)
    ).all()
    if worker is None or reviewer is None or len(veterans) <= len(SCORES):
        return
    bad = []
    for i, (veteran, score) in enumerate(zip(veterans, SCORES, strict=False)):
        record = ContactRecord(
            veteran_id=veteran.id,
            station_id=station.id,
            contact_on=today_cst() - timedelta(days=3 + i),
            way="phone",
            staff_id=worker.id,
            flags=[],
        )
        db.session.add(record)
        db.session.flush()
        comment = COMMENTS.get(score)
        rating = Rating(
            veteran_id=veteran.id,
            subject="contact",
            subject_id=record.id,
            station_id=station.id,
            staff_id=worker.id,
            score=score,
            comment_sealed=pii.encrypt(comment, context="rating.comment") if comment else None,
            created_at=utcnow() - timedelta(days=2 + i),
        )
        db.session.add(rating)
        db.session.flush()
        if score <= 2:
            bad.append((rating, veteran))
    (open_rating, v1), (late_rating, v2), (closed_rating, v3) = bad
    _case(open_rating, v1, station, county, days_ago=1)
    _case(late_rating, v2, station, county, days_ago=12)  # overdue: escalated by the hourly job
    closed = _case(closed_rating, v3, station, county, days_ago=6)
    now = utcnow()
    closed.assignee_id = reviewer.id
    closed.handling_sealed = pii.encrypt_json(
        {"contacts": ["电话联系本人，了解情况并致歉"], "outcome": "已约谈当事工作人员，改进接待流程"},
        context="feedback_case.handling",
    )
    closed.state, closed.revisit_result, closed.closed_in_time = "closed", "satisfied", True
    closed.contacted_at = closed.resolved_at = closed.revisit_at = closed.closed_at = now - timedelta(days=1)
    for action in ("assigned", "contacted", "resolved", "revisited", "closed"):
        db.session.add(
            FeedbackCaseEvent(
                case_id=closed.id, action=action, staff_id=reviewer.id, occurred_at=now - timedelta(days=1)
            )
        )
    complainant = veterans[len(SCORES)]
    db.session.add(
        ContactRecord(
            veteran_id=complainant.id,
            station_id=station.id,
            contact_on=today_cst() - timedelta(days=5),
            way="visit",
            staff_id=worker.id,
            flags=[],
        )
    )
    complaint = Complaint(
        veteran_id=complainant.id,
        kind="complaint",
        unit_id=station.id,
        staff_id=worker.id,
        text_sealed=pii.encrypt("上门走访时工作人员敷衍了事，材料没有收齐就走了", context="complaint.text"),
    )
    db.session.add(complaint)
    db.session.flush()
    _case(complaint, complainant, station, county, days_ago=2, subject_staff_id=worker.id)
