"""Veterans, their history of moves and edits, and Excel import jobs."""

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, LargeBinary, String, Text, event, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backend import pii
from backend.db import BigId, UTCDateTime, utcnow
from backend.extensions import db

STATUS_LABELS = {"active": "在册", "suspended": "暂停发放", "transferred": "已迁出", "deceased": "已去世"}
GENDER_LABELS = {"M": "男", "F": "女"}

ID_CONTEXT = "veteran.id_number"
PHONE_CONTEXT = "veteran.phone"


class Veteran(db.Model):
    __tablename__ = "veteran"
    __table_args__ = (
        Index("ix_veteran_unit_id_id", "unit_id", "id"),
        Index("ix_veteran_station_id_id", "station_id", "id"),
        Index("ix_veteran_name", "name"),
        # Name prefix search (LIKE '张%') on PostgreSQL under any collation.
        Index("ix_veteran_name_prefix", "name", postgresql_ops={"name": "varchar_pattern_ops"}),
        # The registry list: a subtree is one range of unit_path, read in (unit_path, id) order (queries.py).
        Index("ix_veteran_unit_path_id", "unit_path", "id"),
        Index("ix_veteran_status_unit_path_id", "status", "unit_path", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    id_number_enc: Mapped[str] = mapped_column(String(128))
    id_number_hmac: Mapped[str] = mapped_column(String(80), unique=True)  # "H1:" + hex (backend/pii.py)
    gender: Mapped[str] = mapped_column(String(1))
    birth_date: Mapped[object] = mapped_column(Date)
    phone_enc: Mapped[str | None] = mapped_column(String(128))
    phone_hmac: Mapped[str | None] = mapped_column(String(80), index=True)
    address: Mapped[str | None] = mapped_column(String(200))
    station_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"))
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("org_unit.id"))
    # The lowest unit the veteran belongs to (grid if set, else station): the one column data scope filters on.
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"))
    # org_unit.path of unit_id, copied so a subtree's rows are one index range in list order. Units never move,
    # so it changes only with unit_id: place() sets both, and the hook below checks every flush. Byte order
    # ("C" collation on PostgreSQL; SQLite compares bytes) so one btree serves the range and the ORDER BY.
    unit_path: Mapped[str] = mapped_column(String(255).with_variant(String(255, collation="C"), "postgresql"))
    grid_worker: Mapped[str | None] = mapped_column(String(64))
    placement_date: Mapped[object | None] = mapped_column(Date)
    party_member: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16), default="active")
    # The latest year whose annual registration was approved: the year's benefits stand (pension reads it).
    benefits_year: Mapped[int | None]
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    version_id: Mapped[int] = mapped_column(default=1)

    station = relationship("OrgUnit", foreign_keys=[station_id], lazy="joined")
    grid = relationship("OrgUnit", foreign_keys=[grid_id], lazy="joined")

    __mapper_args__ = {"version_id_col": version_id}

    def place(self, station, grid=None):
        """Put the veteran at a station (and grid): station_id, grid_id, unit_id and unit_path together."""
        unit = grid or station
        self.station_id, self.grid_id = station.id, grid.id if grid else None
        self.unit_id, self.unit_path = unit.id, unit.path

    @property
    def id_number(self):
        return pii.decrypt(self.id_number_enc, context=ID_CONTEXT)

    @property
    def phone(self):
        return pii.decrypt(self.phone_enc, context=PHONE_CONTEXT)

    @property
    def id_number_masked(self):
        return pii.mask_id_number(self.id_number)

    @property
    def phone_masked(self):
        return pii.mask_phone(self.phone) if self.phone_enc else ""

    @property
    def status_label(self):
        return STATUS_LABELS.get(self.status, self.status)

    @property
    def gender_label(self):
        return GENDER_LABELS.get(self.gender, "")


@event.listens_for(Veteran, "before_insert")
@event.listens_for(Veteran, "before_update")
def _keep_unit_path(mapper, connection, target):
    """Whoever set unit_id without place(): copy the unit's path (a path ends with its own unit id)."""
    if target.unit_id is not None and not (target.unit_path or "").endswith(f"/{target.unit_id}/"):
        from backend.orgs.models import OrgUnit

        target.unit_path = connection.scalar(select(OrgUnit.path).where(OrgUnit.id == target.unit_id))


class VeteranHistory(db.Model):
    """What happened to a record: created, edited (field names only, never values), moved, status changed."""

    __tablename__ = "veteran_history"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    veteran_id: Mapped[int] = mapped_column(ForeignKey("veteran.id", ondelete="CASCADE"), index=True)
    occurred_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    channel: Mapped[str] = mapped_column(String(16), default="portal")  # portal | import
    action: Mapped[str] = mapped_column(String(32))
    details: Mapped[dict] = mapped_column(JSON, default=dict)

    actor = relationship("Staff", lazy="joined")


class ImportJob(db.Model):
    __tablename__ = "veteran_import_job"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("staff.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"))  # the creator's unit: the job's scope
    filename: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), default="queued")  # queued | running | done | failed
    total_rows: Mapped[int] = mapped_column(default=0)
    processed_rows: Mapped[int] = mapped_column(default=0)
    imported_rows: Mapped[int] = mapped_column(default=0)
    rejections: Mapped[list] = mapped_column(JSON, default=list)  # [{"row": n, "reason": "..."}]
    error: Mapped[str | None] = mapped_column(Text)
    # While queued or running: the uploaded sheet. Once done: the rejected rows, sealed (AES-GCM), for download;
    # cleared 24 h after the job ends (no residual personal data). Deferred: progress polls never load it.
    content: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[object | None] = mapped_column(UTCDateTime)

    @property
    def percent(self):
        return int(100 * self.processed_rows / self.total_rows) if self.total_rows else (100 if self.done else 0)

    @property
    def done(self):
        return self.status in ("done", "failed")
