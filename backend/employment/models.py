"""Employment and entrepreneurship (Art. 13, 18): status and history, the employer's liaison, support given, and
roles in grassroots governance, border defence, national defence education and volunteering."""

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from backend.db import BigId, UTCDateTime, utcnow
from backend.extensions import db

# The registration form's employment statuses (backend/registration/content.py EMPLOYMENT) are the same codes.
STATUSES = ("employed", "self_employed", "unemployed", "retired", "other")
SUPPORT_KINDS = (
    "referral",
    "training",
    "loan",
    "subsidy",
    "incubation",
    "other",
)  # 推荐 培训 贷款 补贴 孵化
SUPPORT_OUTCOMES = ("pending", "succeeded", "failed", "withdrawn")
ROLE_AREAS = ("grassroots", "border", "defence_education", "volunteer")  # 基层治理 稳边固边 国防教育 志愿服务


def _in(column, values):
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class EmploymentRecord(db.Model):
    """One period of a veteran's employment; the current one has `until` NULL (at most one per veteran)."""

    __tablename__ = "employment_record"
    __table_args__ = (
        Index("ix_employment_record_veteran_id_id", "veteran_id", "id"),
        Index("ix_employment_record_station_current", "station_id", "until", "status"),
        CheckConstraint(_in("status", STATUSES), name="status_known"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    veteran_id: Mapped[int] = mapped_column(ForeignKey("veteran.id", ondelete="CASCADE"))
    station_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"))
    status: Mapped[str] = mapped_column(String(16))
    employer: Mapped[str | None] = mapped_column(String(100))  # employed: 用人单位; self-employed: the business
    position: Mapped[str | None] = mapped_column(String(60))
    since: Mapped[object | None] = mapped_column(Date)
    until: Mapped[object | None] = mapped_column(Date)  # None: current
    wishes: Mapped[str | None] = mapped_column(String(300))  # unemployed: 就业意向
    liaison_name: Mapped[str | None] = mapped_column(String(64))  # 用人单位联络人, told of important matters
    liaison_phone_enc: Mapped[str | None] = mapped_column(String(128))  # sealed (backend/pii)
    source: Mapped[str] = mapped_column(String(12), default="staff")  # staff | registration (approved form)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)


class EmploymentSupport(db.Model):
    """Support given: a job referral, a training course, entrepreneurship support (loan, subsidy, incubation)."""

    __tablename__ = "employment_support"
    __table_args__ = (
        Index("ix_employment_support_veteran_id_id", "veteran_id", "id"),
        Index("ix_employment_support_station_id_given_on", "station_id", "given_on"),
        CheckConstraint(_in("kind", SUPPORT_KINDS), name="kind_known"),
        CheckConstraint(_in("outcome", SUPPORT_OUTCOMES), name="outcome_known"),
        CheckConstraint("amount_fen IS NULL OR amount_fen >= 0", name="amount_not_negative"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    veteran_id: Mapped[int] = mapped_column(ForeignKey("veteran.id", ondelete="CASCADE"))
    station_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"))
    kind: Mapped[str] = mapped_column(String(12))
    given_on: Mapped[object] = mapped_column(Date)
    detail: Mapped[str] = mapped_column(String(300))  # the employer referred to, the course, the loan's bank …
    amount_fen: Mapped[int | None] = mapped_column()  # loans and subsidies
    outcome: Mapped[str] = mapped_column(String(10), default="pending")
    outcome_note: Mapped[str | None] = mapped_column(String(300))
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)


class CivicRole(db.Model):
    """A role in grassroots governance, border defence, national defence education or volunteering."""

    __tablename__ = "civic_role"
    __table_args__ = (
        Index("ix_civic_role_veteran_id_id", "veteran_id", "id"),
        Index("ix_civic_role_station_id_area", "station_id", "area"),
        CheckConstraint(_in("area", ROLE_AREAS), name="area_known"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    veteran_id: Mapped[int] = mapped_column(ForeignKey("veteran.id", ondelete="CASCADE"))
    station_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"))
    area: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(60))  # e.g. 村（社区）两委委员, 护边员, 国防教育宣讲员, 志愿者
    organisation: Mapped[str | None] = mapped_column(String(100))
    since: Mapped[object | None] = mapped_column(Date)
    until: Mapped[object | None] = mapped_column(Date)
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)


class CivicActivity(db.Model):
    """An activity under a role (a patrol, a lecture, a volunteer service), with hours."""

    __tablename__ = "civic_activity"
    __table_args__ = (Index("ix_civic_activity_role_id_id", "role_id", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    role_id: Mapped[int] = mapped_column(ForeignKey("civic_role.id", ondelete="CASCADE"))
    held_on: Mapped[object] = mapped_column(Date)
    title: Mapped[str] = mapped_column(String(100))
    hours_tenths: Mapped[int | None] = mapped_column()  # 1.5 h = 15
    note: Mapped[str | None] = mapped_column(Text)
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
