"""Feedback and ratings (好差评, Art. 24): ratings of service events, complaints and suggestions, and the closed loop
(a case for the unit above the one rated, handled within working days, escalated when overdue, revisited)."""

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from backend.db import BigId, UTCDateTime, utcnow
from backend.extensions import db

# What a veteran may rate, once per event: a served booking, an approved registration, a closed assistance case, a
# contact (常态化联系) or a visit.
SUBJECTS = ("booking", "registration", "assistance", "contact", "visit")
SCORES = {5: "非常满意", 4: "满意", 3: "基本满意", 2: "不满意", 1: "非常不满意"}
BAD_SCORE = 2  # 不满意 or worse opens a case
SATISFIED_MIN = 4  # 满意率: 满意 and 非常满意 over all ratings (the portal and the assessment figure alike)
COMPLAINT_KINDS = ("complaint", "suggestion")  # 投诉 | 建议
CASE_SOURCES = ("rating", "complaint")
CASE_STATES = ("open", "contacted", "resolved", "closed")
REVISIT_RESULTS = ("satisfied", "unsatisfied", "unreachable")


def _in(column, values):
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Rating(db.Model):
    """A veteran's rating of one service event (unique per event and veteran)."""

    __tablename__ = "rating"
    __table_args__ = (
        UniqueConstraint("subject", "subject_id", "veteran_id", name="uq_rating_subject_veteran"),
        Index("ix_rating_station_id_created_at", "station_id", "created_at"),
        Index("ix_rating_veteran_id_id", "veteran_id", "id"),
        CheckConstraint(_in("subject", SUBJECTS), name="subject_known"),
        CheckConstraint("score BETWEEN 1 AND 5", name="score_range"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    veteran_id: Mapped[int] = mapped_column(ForeignKey("veteran.id", ondelete="CASCADE"))
    subject: Mapped[str] = mapped_column(String(14))
    subject_id: Mapped[int] = mapped_column(BigId)
    station_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"))  # the unit rated
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))  # who served, when the event says
    score: Mapped[int] = mapped_column()
    comment_sealed: Mapped[str | None] = mapped_column(Text)  # free text may hold personal details (backend/pii)
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)


class Complaint(db.Model):
    """A complaint or suggestion from the phone, about a service, a unit or a staff member."""

    __tablename__ = "complaint"
    __table_args__ = (
        Index("ix_complaint_veteran_id_id", "veteran_id", "id"),
        Index("ix_complaint_unit_id_id", "unit_id", "id"),
        CheckConstraint(_in("kind", COMPLAINT_KINDS), name="kind_known"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    veteran_id: Mapped[int] = mapped_column(ForeignKey("veteran.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(10))
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"))  # the unit it is about (default: the station)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))  # a staff member it is about
    subject: Mapped[str | None] = mapped_column(String(14))  # optionally a service event (SUBJECTS)
    subject_id: Mapped[int | None] = mapped_column(BigId)
    text_sealed: Mapped[str] = mapped_column(Text)
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)


class ComplaintAttachment(db.Model):
    """Proof attached to a complaint (backend/uploads.py checks)."""

    __tablename__ = "complaint_attachment"
    __table_args__ = (Index("ix_complaint_attachment_complaint_id", "complaint_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaint.id", ondelete="CASCADE"))
    stored_name: Mapped[str] = mapped_column(String(64), unique=True)
    content_type: Mapped[str] = mapped_column(String(40))
    size: Mapped[int] = mapped_column()
    sha256: Mapped[str] = mapped_column(String(64))
    display_name: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)


class FeedbackCase(db.Model):
    """The closed loop of a bad rating or a complaint, handled by the unit above the one rated (unit_id); escalates
    up the tree when overdue. Hidden from the staff member complained about, who can never handle it."""

    __tablename__ = "feedback_case"
    __table_args__ = (
        Index("ix_feedback_case_unit_id_id", "unit_id", "id"),
        Index("ix_feedback_case_open_due", "state", "due_on"),
        Index("ix_feedback_case_state_closed_at", "state", "closed_at"),
        UniqueConstraint("rating_id", name="uq_feedback_case_rating"),
        UniqueConstraint("complaint_id", name="uq_feedback_case_complaint"),
        CheckConstraint(_in("source", CASE_SOURCES), name="source_known"),
        CheckConstraint(_in("state", CASE_STATES), name="state_known"),
        CheckConstraint(f"revisit_result IS NULL OR {_in('revisit_result', REVISIT_RESULTS)}", name="revisit_known"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    source: Mapped[str] = mapped_column(String(10))
    rating_id: Mapped[int | None] = mapped_column(ForeignKey("rating.id", ondelete="CASCADE"))
    complaint_id: Mapped[int | None] = mapped_column(ForeignKey("complaint.id", ondelete="CASCADE"))
    veteran_id: Mapped[int] = mapped_column(ForeignKey("veteran.id", ondelete="CASCADE"))
    subject_unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"))  # the unit rated / complained about
    subject_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))  # hidden from; never the handler
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"))  # the handling unit (parent; moves up)
    escalations: Mapped[int] = mapped_column(default=0)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    state: Mapped[str] = mapped_column(String(10), default="open")
    opened_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)
    due_on: Mapped[object] = mapped_column(Date)  # working days on China's calendar (chinese_calendar); moves up
    first_due_on: Mapped[object] = mapped_column(Date)  # the first deadline: "closed in time" is measured against it
    contacted_at: Mapped[object | None] = mapped_column(UTCDateTime)
    handling_sealed: Mapped[str | None] = mapped_column(Text)  # how the veteran was contacted and what was done
    resolved_at: Mapped[object | None] = mapped_column(UTCDateTime)
    revisit_result: Mapped[str | None] = mapped_column(String(12))  # 回访: the veteran asked again
    revisit_at: Mapped[object | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[object | None] = mapped_column(UTCDateTime)
    closed_in_time: Mapped[bool | None] = mapped_column()
    version_id: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version_id}


class FeedbackPromptMark(db.Model):
    """The daily prompt's watermark (one row, id 1): the last CST day whose service events were prompted."""

    __tablename__ = "feedback_prompt_mark"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    done_through: Mapped[object] = mapped_column(Date)
    updated_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class FeedbackCaseEvent(db.Model):
    """A case's timeline: opened, assigned, contacted, resolved, revisited, escalated, closed."""

    __tablename__ = "feedback_case_event"
    __table_args__ = (Index("ix_feedback_case_event_case_id_id", "case_id", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("feedback_case.id", ondelete="CASCADE"))
    action: Mapped[str] = mapped_column(String(16))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))  # None: the system (escalation)
    from_unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_unit.id"))
    to_unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_unit.id"))
    occurred_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)
