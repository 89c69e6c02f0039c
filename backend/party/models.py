"""Party members (Art. 6): membership and branch, transfers (feeding the Art. 7 onboarding rule), yearly evaluations."""

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from backend.db import BigId, UTCDateTime, utcnow
from backend.extensions import db

MEMBERSHIP = ("full", "probationary")  # 正式党员 | 预备党员 (no row: not a member)
TRANSFER_DIRECTIONS = ("in", "out")
TRANSFER_STATES = ("open", "done", "cancelled")
RATINGS = ("good", "fair", "poor")  # per aspect: 好 较好/一般 差
OVERALL = ("excellent", "qualified", "basically_qualified", "unqualified")  # 优秀 合格 基本合格 不合格


def _in(column, values):
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class PartyBranch(db.Model):
    """A local party branch (党组织) of a town or street, recorded as data under a unit."""

    __tablename__ = "party_branch"
    __table_args__ = (
        UniqueConstraint("unit_id", "name", name="uq_party_branch_unit_name"),
        Index("ix_party_branch_unit_id_id", "unit_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"))
    name: Mapped[str] = mapped_column(String(100))
    secretary: Mapped[str | None] = mapped_column(String(64))  # 支部书记
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)


class PartyMembership(db.Model):
    """A veteran's membership: full or probationary, the branch now. Keeps Veteran.party_member in step."""

    __tablename__ = "party_membership"
    __table_args__ = (
        Index("ix_party_membership_station_id_veteran_id", "station_id", "veteran_id"),
        Index("ix_party_membership_branch_id", "branch_id"),
        CheckConstraint(_in("status", MEMBERSHIP), name="status_known"),
    )

    veteran_id: Mapped[int] = mapped_column(ForeignKey("veteran.id", ondelete="CASCADE"), primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"))
    status: Mapped[str] = mapped_column(String(12))
    branch_id: Mapped[int | None] = mapped_column(ForeignKey("party_branch.id"))  # None: transfer not yet in
    joined_on: Mapped[object | None] = mapped_column(Date)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    updated_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class PartyTransfer(db.Model):
    """A transfer of the organisational relationship (组织关系转接), in or out. An open inbound transfer is what the
    onboarding case's party_transfer step waits for."""

    __tablename__ = "party_transfer"
    __table_args__ = (
        Index("ix_party_transfer_veteran_id_id", "veteran_id", "id"),
        Index("ix_party_transfer_station_id_id", "station_id", "id"),
        CheckConstraint(_in("direction", TRANSFER_DIRECTIONS), name="direction_known"),
        CheckConstraint(_in("state", TRANSFER_STATES), name="state_known"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    veteran_id: Mapped[int] = mapped_column(ForeignKey("veteran.id", ondelete="CASCADE"))
    station_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"))
    direction: Mapped[str] = mapped_column(String(3))
    counterpart: Mapped[str] = mapped_column(String(100))  # the other organisation (原部队党组织 / 转出去向)
    branch_id: Mapped[int | None] = mapped_column(ForeignKey("party_branch.id"))  # inbound: the receiving branch
    letter_number: Mapped[str | None] = mapped_column(String(64))  # 介绍信编号
    started_on: Mapped[object] = mapped_column(Date)
    completed_on: Mapped[object | None] = mapped_column(Date)
    state: Mapped[str] = mapped_column(String(10), default="open")
    note: Mapped[str | None] = mapped_column(String(300))
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)


class PartyEvaluation(db.Model):
    """The branch's yearly evaluation opinion (评定意见): organisational life, dues, daily conduct, with the branch's
    document attached. A reference for honors and preferential services."""

    __tablename__ = "party_evaluation"
    __table_args__ = (
        UniqueConstraint("veteran_id", "year", name="uq_party_evaluation_veteran_year"),
        Index("ix_party_evaluation_station_id_year", "station_id", "year"),
        CheckConstraint(_in("life", RATINGS), name="life_known"),
        CheckConstraint(_in("dues", RATINGS), name="dues_known"),
        CheckConstraint(_in("conduct", RATINGS), name="conduct_known"),
        CheckConstraint(_in("overall", OVERALL), name="overall_known"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    veteran_id: Mapped[int] = mapped_column(ForeignKey("veteran.id", ondelete="CASCADE"))
    station_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"))
    year: Mapped[int] = mapped_column()
    branch_id: Mapped[int | None] = mapped_column(ForeignKey("party_branch.id"))
    life: Mapped[str] = mapped_column(String(6))  # 组织生活
    dues: Mapped[str] = mapped_column(String(6))  # 党费缴纳
    conduct: Mapped[str] = mapped_column(String(6))  # 日常表现
    overall: Mapped[str] = mapped_column(String(20))
    opinion: Mapped[str] = mapped_column(Text)
    document_name: Mapped[str | None] = mapped_column(String(64))  # stored file (backend/uploads.py checks)
    document_type: Mapped[str | None] = mapped_column(String(40))
    document_display: Mapped[str | None] = mapped_column(String(100))
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    recorded_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)
