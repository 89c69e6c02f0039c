"""Personnel archives (人事档案, Art. 8): custody, items, digital copies, lookups with a permanent log, inspections."""

from sqlalchemy import JSON, Boolean, CheckConstraint, Date, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from backend.db import BigId, UTCDateTime, utcnow
from backend.extensions import db

ARCHIVE_STATES = ("in_custody", "transferred_out")
REQUEST_KINDS = ("lookup", "copy")  # 查阅 | 复制
REQUESTER_KINDS = ("staff", "outside")  # our own staff | an outside unit (组织人事部门 etc.)
REQUEST_STATES = ("pending", "approved", "rejected", "done", "cancelled")
CHECKLIST = ("fire", "damp", "pests", "locks", "completeness")  # 防火 防潮 防虫 门锁 完整性
# The permanent log's events (archive_access_log.event).
LOG_EVENTS = (
    "intake",
    "requested",
    "approved",
    "rejected",
    "cancelled",
    "looked_up",
    "copied",
    "file_viewed",
    "transferred_out",
)


def _in(column, values):
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class ArchiveLocation(db.Model):
    """A custody place of a center (档案室/柜): inspected on a schedule."""

    __tablename__ = "archive_location"
    __table_args__ = (
        Index("ix_archive_location_unit_id_id", "unit_id", "id"),
        Index("ix_archive_location_next_due_on", "next_due_on"),
        UniqueConstraint("unit_id", "name", name="uq_archive_location_unit_name"),
        CheckConstraint("interval_days BETWEEN 7 AND 366", name="interval_sane"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"))  # the unit keeping the archives (a center)
    name: Mapped[str] = mapped_column(String(60))  # e.g. 一号档案室
    interval_days: Mapped[int] = mapped_column(default=90)  # inspection schedule
    last_inspected_on: Mapped[object | None] = mapped_column(Date)
    next_due_on: Mapped[object] = mapped_column(Date)  # CST; overdue when past
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)


class Archive(db.Model):
    """A veteran's personnel archive held by the service center. One per veteran."""

    __tablename__ = "archive"
    __table_args__ = (
        Index("ix_archive_station_id_id", "station_id", "id"),
        Index("ix_archive_location_id", "location_id"),
        CheckConstraint(_in("state", ARCHIVE_STATES), name="state_known"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    veteran_id: Mapped[int] = mapped_column(ForeignKey("veteran.id"), unique=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"))  # scope: the veteran's station
    state: Mapped[str] = mapped_column(String(16), default="in_custody")
    received_on: Mapped[object] = mapped_column(Date)
    received_from: Mapped[str] = mapped_column(String(100))  # the sending unit (原部队/原单位)
    received_by_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    location_id: Mapped[int | None] = mapped_column(ForeignKey("archive_location.id"))
    cabinet: Mapped[str | None] = mapped_column(String(30))
    shelf: Mapped[str | None] = mapped_column(String(30))
    note: Mapped[str | None] = mapped_column(String(500))
    transferred_to: Mapped[str | None] = mapped_column(String(100))
    transferred_on: Mapped[object | None] = mapped_column(Date)
    transfer_receipt: Mapped[str | None] = mapped_column(String(64))  # the receiving unit's receipt number
    transferred_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)
    version_id: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version_id}


class ArchiveItem(db.Model):
    """One entry of the archive's item list (材料目录), checked at intake."""

    __tablename__ = "archive_item"
    __table_args__ = (
        UniqueConstraint("archive_id", "seq", name="uq_archive_item_archive_seq"),
        CheckConstraint("pages IS NULL OR pages BETWEEN 1 AND 9999", name="pages_sane"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    archive_id: Mapped[int] = mapped_column(ForeignKey("archive.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column()  # 序号 in the catalog
    title: Mapped[str] = mapped_column(String(100))
    pages: Mapped[int | None] = mapped_column()
    checked: Mapped[bool] = mapped_column(Boolean, default=False)  # present and matching the catalog at intake
    note: Mapped[str | None] = mapped_column(String(200))


class ArchiveFile(db.Model):
    """A scanned file of an item (数字档案). Viewing is audited and watermarked with the viewer and time."""

    __tablename__ = "archive_file"
    __table_args__ = (Index("ix_archive_file_item_id", "item_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("archive_item.id", ondelete="CASCADE"))
    stored_name: Mapped[str] = mapped_column(String(64), unique=True)
    content_type: Mapped[str] = mapped_column(String(40))
    size: Mapped[int] = mapped_column()
    sha256: Mapped[str] = mapped_column(String(64))
    display_name: Mapped[str] = mapped_column(String(100))
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)


class ArchiveRequest(db.Model):
    """A lookup (查阅) or copy (复制) request; the center approves before anyone opens the archive."""

    __tablename__ = "archive_request"
    __table_args__ = (
        Index("ix_archive_request_station_id_id", "station_id", "id"),
        Index("ix_archive_request_archive_id_id", "archive_id", "id"),
        CheckConstraint(_in("kind", REQUEST_KINDS), name="kind_known"),
        CheckConstraint(_in("requester_kind", REQUESTER_KINDS), name="requester_kind_known"),
        CheckConstraint(_in("state", REQUEST_STATES), name="state_known"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    archive_id: Mapped[int] = mapped_column(ForeignKey("archive.id"))
    station_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"))  # copied from the archive: scope
    kind: Mapped[str] = mapped_column(String(8))
    requester_kind: Mapped[str] = mapped_column(String(8))
    requester_name: Mapped[str] = mapped_column(String(64))
    requester_unit: Mapped[str] = mapped_column(String(100))
    purpose: Mapped[str] = mapped_column(String(300))
    item_ids: Mapped[list] = mapped_column(JSON, default=list)  # the items asked for
    state: Mapped[str] = mapped_column(String(10), default="pending")
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))  # who entered the request
    requested_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))  # never the requester
    decided_at: Mapped[object | None] = mapped_column(UTCDateTime)
    decision_note: Mapped[str | None] = mapped_column(String(300))
    looked_up_at: Mapped[object | None] = mapped_column(UTCDateTime)  # when the lookup took place
    copied: Mapped[str | None] = mapped_column(String(300))  # what was copied (copy requests)
    done_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    version_id: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version_id}


class ArchiveAccessLog(db.Model):
    """The permanent log of everything done with an archive. Append-only: the database refuses UPDATE and DELETE
    (triggers on both engines; on PostgreSQL the app role holds only SELECT, INSERT — backend/dbroles.py)."""

    __tablename__ = "archive_access_log"
    __table_args__ = (
        Index("ix_archive_access_log_archive_id_id", "archive_id", "id"),
        Index("ix_archive_access_log_station_id_id", "station_id", "id"),
        CheckConstraint(_in("event", LOG_EVENTS), name="event_known"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    archive_id: Mapped[int] = mapped_column(ForeignKey("archive.id"))
    station_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"))
    request_id: Mapped[int | None] = mapped_column(ForeignKey("archive_request.id"))
    event: Mapped[str] = mapped_column(String(16))
    occurred_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    staff_name: Mapped[str | None] = mapped_column(String(64))  # as it was then
    requester: Mapped[str | None] = mapped_column(String(170))  # name and unit of an outside requester
    purpose: Mapped[str | None] = mapped_column(String(300))
    items: Mapped[list] = mapped_column(JSON, default=list)  # item titles touched
    details: Mapped[dict] = mapped_column(JSON, default=dict)


class ArchiveInspection(db.Model):
    """A safety inspection (安全检查) of a custody location: the checklist, findings and fixes."""

    __tablename__ = "archive_inspection"
    __table_args__ = (Index("ix_archive_inspection_location_id_id", "location_id", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    location_id: Mapped[int] = mapped_column(ForeignKey("archive_location.id", ondelete="CASCADE"))
    inspected_on: Mapped[object] = mapped_column(Date)
    inspector_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    checklist: Mapped[dict] = mapped_column(JSON, default=dict)  # {"fire": "ok" | "problem", ...} over CHECKLIST
    findings: Mapped[str | None] = mapped_column(Text)
    fixes: Mapped[str | None] = mapped_column(Text)
    fixed_on: Mapped[object | None] = mapped_column(Date)
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)
