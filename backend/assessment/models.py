"""Assessment figures (考核评价, Art. 15, 23): per unit and year, computed from the data by scheduled aggregation
(never typed in, never scanned on a page load), with the department's weights and targets per indicator."""

from sqlalchemy import BigInteger, Boolean, CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from backend.db import BigId, UTCDateTime, utcnow
from backend.extensions import db


class IndicatorSetting(db.Model):
    """A department's weight and target for one indicator (unit_id: the department's unit; the nearest ancestor's
    setting applies to a unit)."""

    __tablename__ = "assessment_setting"
    __table_args__ = (
        UniqueConstraint("unit_id", "code", name="uq_assessment_setting_unit_code"),
        CheckConstraint("weight BETWEEN 0 AND 100", name="weight_range"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"))
    code: Mapped[str] = mapped_column(String(40))  # backend/assessment/indicators.py
    weight: Mapped[int] = mapped_column(default=0)  # points out of 100
    target_permille: Mapped[int] = mapped_column(default=1000)  # target value ×1000 (rates) or the unit's measure
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    updated_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class UnitFigure(db.Model):
    """One indicator of one unit (its whole subtree) for one year: numerator and denominator as counted, so rates
    roll up exactly. Written by the aggregation job; stations are computed, the levels above sum their children."""

    __tablename__ = "assessment_figure"
    __table_args__ = (
        UniqueConstraint("unit_id", "year", "code", name="uq_assessment_figure_unit_year_code"),
        Index("ix_assessment_figure_year_code", "year", "code"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"))
    unit_path: Mapped[str] = mapped_column(String(255))
    year: Mapped[int] = mapped_column()
    code: Mapped[str] = mapped_column(String(40))
    numerator: Mapped[int] = mapped_column(BigInteger, default=0)
    denominator: Mapped[int] = mapped_column(BigInteger, default=0)
    value_permille: Mapped[int | None] = mapped_column()  # for medians and other non-additive figures
    computed_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow)
