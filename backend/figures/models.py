"""unit_stat: one row per org unit and year with the SUBTREE totals of that unit, filled by backend.figures.rollup."""

from sqlalchemy import JSON, ForeignKey, Integer
from sqlalchemy.orm import Mapped, mapped_column

from backend.db import BigId, UTCDateTime
from backend.extensions import db

# The review-days histogram: buckets 0..90 days, and 91 for 91 days or more.
HISTOGRAM_TOP = 91

COUNT_COLUMNS = (
    # coverage (Art. 15), every status: the coverage page
    "veterans_all",
    "with_station",
    "with_grid",
    "with_worker",
    # active veterans: the registration figures' denominator
    "veterans",
    # registrations of the year: ever submitted, then one per review queue tab (backend.registration.queries.TABS)
    "submitted",
    "waiting",
    "returned",
    "flagged",
    "approved",
    "overdue",
    "talks",
)


class UnitStat(db.Model):
    """Totals over the unit's whole subtree for one year, as of `computed_at` (a read is a primary-key lookup)."""

    __tablename__ = "unit_stat"

    unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id", ondelete="CASCADE"), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    veterans_all: Mapped[int] = mapped_column(BigId, default=0)
    with_station: Mapped[int] = mapped_column(BigId, default=0)
    with_grid: Mapped[int] = mapped_column(BigId, default=0)
    with_worker: Mapped[int] = mapped_column(BigId, default=0)
    veterans: Mapped[int] = mapped_column(BigId, default=0)
    submitted: Mapped[int] = mapped_column(BigId, default=0)
    waiting: Mapped[int] = mapped_column(BigId, default=0)
    returned: Mapped[int] = mapped_column(BigId, default=0)
    flagged: Mapped[int] = mapped_column(BigId, default=0)
    approved: Mapped[int] = mapped_column(BigId, default=0)
    overdue: Mapped[int] = mapped_column(BigId, default=0)
    talks: Mapped[int] = mapped_column(BigId, default=0)
    # {"days": approved registrations whose review took that many whole days}; "91" holds 91 days or more
    review_days: Mapped[dict] = mapped_column(JSON, default=dict)
    computed_at: Mapped[object] = mapped_column(UTCDateTime)
