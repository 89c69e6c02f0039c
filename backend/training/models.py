"""Staff work (Art. 20, 21): the responsible office or person of each unit (明确专人), and staff training records
(政治教育、业务培训、岗位练兵) with hours and assessment results."""

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from backend.db import BigId, UTCDateTime, utcnow
from backend.extensions import db

TRAINING_KINDS = ("political", "business", "drill")  # 政治教育 | 业务培训 | 岗位练兵
RESULTS = ("excellent", "pass", "fail", "absent")


def _in(column, values):
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class UnitResponsible(db.Model):
    """Who is responsible for veterans' work at a unit: a center names an office (and its head), a station a person
    (a staff account). A unit with no row is flagged in the org tree."""

    __tablename__ = "unit_responsible"

    unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id", ondelete="CASCADE"), primary_key=True)
    office: Mapped[str | None] = mapped_column(String(60))  # centers: 负责科室
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))  # the responsible person (专人)
    person_name: Mapped[str | None] = mapped_column(String(64))  # when the person has no account
    since: Mapped[object | None] = mapped_column(Date)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    updated_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class TrainingSession(db.Model):
    """A training session of a unit: date, topic, hours."""

    __tablename__ = "training_session"
    __table_args__ = (
        Index("ix_training_session_unit_id_held_on", "unit_id", "held_on"),
        CheckConstraint(_in("kind", TRAINING_KINDS), name="kind_known"),
        CheckConstraint("hours_tenths BETWEEN 1 AND 400", name="hours_sane"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"))
    kind: Mapped[str] = mapped_column(String(10))
    topic: Mapped[str] = mapped_column(String(100))
    held_on: Mapped[object] = mapped_column(Date)
    hours_tenths: Mapped[int] = mapped_column()  # 3.5 h = 35
    trainer: Mapped[str | None] = mapped_column(String(64))
    created_by_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)


class TrainingAttendance(db.Model):
    """A staff member at a session, with the assessment result; hours count towards their yearly total."""

    __tablename__ = "training_attendance"
    __table_args__ = (
        UniqueConstraint("session_id", "staff_id", name="uq_training_attendance_session_staff"),
        Index("ix_training_attendance_staff_id", "staff_id"),
        CheckConstraint(_in("result", RESULTS), name="result_known"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("training_session.id", ondelete="CASCADE"))
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    result: Mapped[str] = mapped_column(String(10), default="pass")
    score: Mapped[int | None] = mapped_column()  # 0..100 when the assessment is scored
