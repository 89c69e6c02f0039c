"""The org tree, stored with a materialized path so a subtree is one indexed prefix scan."""

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backend.db import BigId, UTCDateTime, utcnow
from backend.extensions import db

LEVELS = ("province", "city", "county", "station", "grid")
LEVEL_LABELS = {"province": "省", "city": "市", "county": "县（区）", "station": "乡镇（街道）服务站", "grid": "网格"}


class OrgUnit(db.Model):
    __tablename__ = "org_unit"
    __table_args__ = (
        UniqueConstraint("parent_id", "name", name="uq_org_unit_parent_name"),
        Index("ix_org_unit_path", "path", postgresql_ops={"path": "varchar_pattern_ops"}),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("org_unit.id"), index=True)
    level: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(100))
    code: Mapped[str | None] = mapped_column(String(32))
    # "/1/7/42/": ids from the root down to this unit, each followed by a slash.
    path: Mapped[str] = mapped_column(String(255), unique=False)
    depth: Mapped[int]
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)

    parent = relationship("OrgUnit", remote_side="OrgUnit.id", lazy="joined", join_depth=1)

    @property
    def level_label(self):
        return LEVEL_LABELS[self.level]

    @property
    def child_level(self):
        index = LEVELS.index(self.level)
        return LEVELS[index + 1] if index + 1 < len(LEVELS) else None

    def contains(self, other):
        """True when `other` (a unit) lies in this unit's subtree, this unit included."""
        return other.path.startswith(self.path)
