"""Rotation progress per sealed column, and the key versions retired (issue 15). No key material here."""

from sqlalchemy import JSON, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from backend.db import BigId, UTCDateTime, utcnow
from backend.extensions import db


class PiiRotation(db.Model):
    """One row per sealed column: the rotation's target header, its id cursor (the job resumes from it), and the
    census of headers the column's values carry, as last counted (the startup check reads this, never the rows)."""

    __tablename__ = "pii_rotation"
    __table_args__ = (UniqueConstraint("table_name", "column_name", name="uq_pii_rotation_table_column"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    table_name: Mapped[str] = mapped_column(String(64))
    column_name: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(String(8))  # seal header the column moves to, e.g. "S2"
    last_id: Mapped[int] = mapped_column(BigId, default=0)  # every row with id <= last_id is done
    resealed: Mapped[int] = mapped_column(Integer, default=0)
    started_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[object | None] = mapped_column(UTCDateTime)
    census: Mapped[dict] = mapped_column(JSON, default=dict)  # {"A0": 10, "S2": 990}: versions still referenced
    census_at: Mapped[object | None] = mapped_column(UTCDateTime)


class PiiKeyVersion(db.Model):
    """A key version retired: no row referenced it when it was retired; its key may then be destroyed."""

    __tablename__ = "pii_key_version"

    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    retired_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)
    retired_by_id: Mapped[int | None] = mapped_column(BigId)
