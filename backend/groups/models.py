"""Self-service groups of veterans by station (Art. 19): the leader (带头人) with selection criteria, members,
activities."""

from sqlalchemy import Boolean, CheckConstraint, Date, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from backend.db import BigId, UTCDateTime, utcnow
from backend.extensions import db

# The leader's selection criteria (选拔条件), one short text each: field -> label.
CRITERIA = {
    "political_standing": "政治素质",
    "health": "身体状况",
    "experience": "工作经历",
    "ability": "组织能力",
}


class SelfGroup(db.Model):
    """A self-service group (自我服务小组) of one station, led by a veteran of that station."""

    __tablename__ = "self_group"
    __table_args__ = (
        UniqueConstraint("station_id", "name", name="uq_self_group_station_name"),
        Index("ix_self_group_leader_id", "leader_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"), index=True)
    name: Mapped[str] = mapped_column(String(50))
    leader_id: Mapped[int | None] = mapped_column(ForeignKey("veteran.id", ondelete="SET NULL"))
    political_standing: Mapped[str | None] = mapped_column(String(200))
    health: Mapped[str | None] = mapped_column(String(200))
    experience: Mapped[str | None] = mapped_column(String(200))
    ability: Mapped[str | None] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class SelfGroupMember(db.Model):
    __tablename__ = "self_group_member"

    group_id: Mapped[int] = mapped_column(ForeignKey("self_group.id", ondelete="CASCADE"), primary_key=True)
    veteran_id: Mapped[int] = mapped_column(ForeignKey("veteran.id", ondelete="CASCADE"), primary_key=True, index=True)
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)


class SelfGroupActivity(db.Model):
    """One activity the group held (date, title, notes, how many took part)."""

    __tablename__ = "self_group_activity"
    __table_args__ = (
        CheckConstraint("participants BETWEEN 0 AND 10000", name="participants_range"),
        Index("ix_self_group_activity_group_held_on", "group_id", "held_on", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("self_group.id", ondelete="CASCADE"))
    station_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"))
    held_on: Mapped[object] = mapped_column(Date)
    title: Mapped[str] = mapped_column(String(100))
    notes: Mapped[str | None] = mapped_column(String(1000))
    participants: Mapped[int] = mapped_column(default=0)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)
