"""Reception one-stop (接收安置, Art. 7): one case per newly placed veteran, one row per step of the checklist."""

from sqlalchemy import Boolean, CheckConstraint, Date, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from backend.db import BigId, UTCDateTime, utcnow
from backend.extensions import db

# The checklist in the order the screen shows it. party_transfer applies to party members only and must be done
# before check_in (Art. 7: 党员组织关系转接在先，报到在后).
STEPS = (
    "party_transfer",
    "check_in",
    "hukou",
    "social_insurance",
    "housing_fund",
    "reserve",
    "bank_account",
    "archive_intake",
    "welcome_ceremony",
)
# Steps other departments complete: the step records who was contacted, when, and the result.
COORDINATED = ("party_transfer", "hukou", "social_insurance", "housing_fund", "reserve")
STEP_STATES = ("pending", "in_progress", "done", "not_applicable")
CASE_STATUSES = ("open", "closed")


def _in(column, values):
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class OnboardingCase(db.Model):
    """A newly placed veteran's reception. At most one per veteran; closes when every required step is done."""

    __tablename__ = "onboarding_case"
    __table_args__ = (
        Index("ix_onboarding_case_station_id_id", "station_id", "id"),
        CheckConstraint(_in("status", CASE_STATUSES), name="status_known"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    veteran_id: Mapped[int] = mapped_column(ForeignKey("veteran.id", ondelete="CASCADE"), unique=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"))  # scope: the veteran's station
    status: Mapped[str] = mapped_column(String(8), default="open")
    notice_number: Mapped[str | None] = mapped_column(String(64))  # 安置通知书编号
    notice_date: Mapped[object | None] = mapped_column(Date)
    arrived_on: Mapped[object] = mapped_column(Date)  # CST
    party_member: Mapped[bool] = mapped_column(Boolean, default=False)  # at opening; decides party_transfer
    ceremony_id: Mapped[int | None] = mapped_column(ForeignKey("ceremony.id"))  # the welcome ceremony (honors)
    summary: Mapped[str | None] = mapped_column(String(500))  # written on closing; shown on the veteran's page
    opened_by_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    opened_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)
    closed_on: Mapped[object | None] = mapped_column(Date)  # the onboarding date shown on the record
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    version_id: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version_id}


class OnboardingStep(db.Model):
    """One step of a case. `state` changes only through backend/onboarding/service.py (audited, evented)."""

    __tablename__ = "onboarding_step"
    __table_args__ = (
        UniqueConstraint("case_id", "step", name="uq_onboarding_step_case_step"),
        Index("ix_onboarding_step_open_due", "state", "due_on"),
        CheckConstraint(_in("step", STEPS), name="step_known"),
        CheckConstraint(_in("state", STEP_STATES), name="state_known"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("onboarding_case.id", ondelete="CASCADE"))
    station_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"))  # copied from the case: overdue lists scope
    step: Mapped[str] = mapped_column(String(20))
    required: Mapped[bool] = mapped_column(Boolean, default=True)
    state: Mapped[str] = mapped_column(String(16), default="pending")
    due_on: Mapped[object | None] = mapped_column(Date)
    done_on: Mapped[object | None] = mapped_column(Date)
    handler_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    note: Mapped[str | None] = mapped_column(String(500))
    contact_party: Mapped[str | None] = mapped_column(String(100))  # coordinated steps: the department and person
    contacted_on: Mapped[object | None] = mapped_column(Date)
    coordination_result: Mapped[str | None] = mapped_column(String(500))
    updated_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    version_id: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version_id}


class OnboardingEvent(db.Model):
    """The step's history: every state change and coordination record, with who and when."""

    __tablename__ = "onboarding_event"
    __table_args__ = (Index("ix_onboarding_event_case_id_id", "case_id", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("onboarding_case.id", ondelete="CASCADE"))
    step: Mapped[str | None] = mapped_column(String(20))  # None: an event of the case (opened, closed)
    action: Mapped[str] = mapped_column(String(20))  # opened | state | coordination | attachment | closed
    from_state: Mapped[str | None] = mapped_column(String(16))
    to_state: Mapped[str | None] = mapped_column(String(16))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    note: Mapped[str | None] = mapped_column(String(500))
    occurred_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)


class OnboardingAttachment(db.Model):
    """Proof for a step (same checks as registration attachments: backend/uploads.py)."""

    __tablename__ = "onboarding_attachment"
    __table_args__ = (Index("ix_onboarding_attachment_step_id", "step_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    step_id: Mapped[int] = mapped_column(ForeignKey("onboarding_step.id", ondelete="CASCADE"))
    stored_name: Mapped[str] = mapped_column(String(64), unique=True)
    content_type: Mapped[str] = mapped_column(String(40))
    size: Mapped[int] = mapped_column()
    sha256: Mapped[str] = mapped_column(String(64))
    display_name: Mapped[str] = mapped_column(String(100))
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)
