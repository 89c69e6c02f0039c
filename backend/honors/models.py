"""Honors and ceremonies (Art. 11): ceremonies with invitations, commendations and awards, the local chronicle."""

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from backend.db import BigId, UTCDateTime, utcnow
from backend.extensions import db

CEREMONY_KINDS = ("welcome", "celebration")  # 欢迎仪式 at reception | 重大庆典
CEREMONY_LEVELS = ("national", "local")
RSVP_STATES = ("invited", "accepted", "declined")
AWARD_LEVELS = ("national", "provincial", "city", "county", "other")
CHRONICLE_STATES = ("candidate", "accepted", "rejected")


def _in(column, values):
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Ceremony(db.Model):
    """A welcome ceremony or a celebration veterans are invited to, organised by a unit."""

    __tablename__ = "ceremony"
    __table_args__ = (
        Index("ix_ceremony_unit_id_id", "unit_id", "id"),
        CheckConstraint(_in("kind", CEREMONY_KINDS), name="kind_known"),
        CheckConstraint(f"level IS NULL OR {_in('level', CEREMONY_LEVELS)}", name="level_known"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"))  # the organiser: scope
    kind: Mapped[str] = mapped_column(String(12))
    level: Mapped[str | None] = mapped_column(String(10))  # celebrations: national or local
    title: Mapped[str] = mapped_column(String(60))
    held_at: Mapped[object] = mapped_column(UTCDateTime)
    place: Mapped[str] = mapped_column(String(100))
    attendees: Mapped[str | None] = mapped_column(String(500))  # leaders and guests present, as free text
    note: Mapped[str | None] = mapped_column(String(500))
    rsvp_by: Mapped[object | None] = mapped_column(Date)  # celebrations: reply by (CST)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)


class Invitation(db.Model):
    """A veteran invited to a ceremony; they reply on the phone (or staff record the reply)."""

    __tablename__ = "invitation"
    __table_args__ = (
        UniqueConstraint("ceremony_id", "veteran_id", name="uq_invitation_ceremony_veteran"),
        Index("ix_invitation_veteran_id_id", "veteran_id", "id"),
        CheckConstraint(_in("status", RSVP_STATES), name="status_known"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    ceremony_id: Mapped[int] = mapped_column(ForeignKey("ceremony.id", ondelete="CASCADE"))
    veteran_id: Mapped[int] = mapped_column(ForeignKey("veteran.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(10), default="invited")
    guests: Mapped[int] = mapped_column(default=0)  # companions the veteran brings
    responded_at: Mapped[object | None] = mapped_column(UTCDateTime)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))  # None: the veteran on the phone
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)


class Award(db.Model):
    """A commendation or award (表彰奖励) on the veteran's page."""

    __tablename__ = "award"
    __table_args__ = (
        Index("ix_award_veteran_id_id", "veteran_id", "id"),
        Index("ix_award_station_id_id", "station_id", "id"),
        CheckConstraint(_in("level", AWARD_LEVELS), name="level_known"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    veteran_id: Mapped[int] = mapped_column(ForeignKey("veteran.id", ondelete="CASCADE"))
    station_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"))
    title: Mapped[str] = mapped_column(String(100))
    level: Mapped[str] = mapped_column(String(10))
    awarded_on: Mapped[object] = mapped_column(Date)
    deed: Mapped[str] = mapped_column(Text)  # 事迹
    approving_body: Mapped[str] = mapped_column(String(100))
    basis: Mapped[str | None] = mapped_column(String(200))  # e.g. the party branch's yearly evaluation (Art. 6)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)


class ChronicleEntry(db.Model):
    """A candidate for the local chronicle (编入地方志): proposed, reviewed, then the entry's text and volume."""

    __tablename__ = "chronicle_entry"
    __table_args__ = (
        Index("ix_chronicle_entry_station_id_id", "station_id", "id"),
        UniqueConstraint("veteran_id", name="uq_chronicle_entry_veteran"),
        CheckConstraint(_in("status", CHRONICLE_STATES), name="status_known"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    veteran_id: Mapped[int] = mapped_column(ForeignKey("veteran.id", ondelete="CASCADE"))
    station_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"))
    status: Mapped[str] = mapped_column(String(10), default="candidate")
    reason: Mapped[str] = mapped_column(String(500))  # why proposed
    entry_text: Mapped[str | None] = mapped_column(Text)
    volume: Mapped[str | None] = mapped_column(String(100))  # e.g. 《某县志（2021—2030）》第十二卷
    proposed_by_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    proposed_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))  # never the proposer
    reviewed_at: Mapped[object | None] = mapped_column(UTCDateTime)
    review_note: Mapped[str | None] = mapped_column(String(300))
    version_id: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version_id}
