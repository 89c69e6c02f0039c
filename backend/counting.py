"""Counts for dashboards that stay cheap on large tables: count at most `cap` + 1 rows, show "1000+" beyond."""

from dataclasses import dataclass

from sqlalchemy import func, select

from backend.extensions import db

DEFAULT_CAP = 1000


@dataclass(frozen=True)
class CappedCount:
    value: int
    cap: int
    # aggregates slice (issue 12): beyond the cap, a rolled-up total (backend/figures) and when it was counted
    estimate: int | None = None
    as_of: object = None

    @property
    def capped(self):
        return self.value > self.cap

    @property
    def estimated(self):
        return self.capped and self.estimate is not None and self.estimate > self.cap

    @property
    def as_of_text(self):
        from backend.figures.service import as_of_text

        return as_of_text(self.as_of) if self.estimated else None

    def __str__(self):
        if self.estimated:
            return f"约 {self.estimate:,}"
        return f"{self.cap}+" if self.capped else str(self.value)


def capped_count(query, cap=DEFAULT_CAP):
    """How many rows `query` (a SELECT) returns, counting no further than `cap` + 1 (an indexed LIMIT, never a full
    COUNT of a large table)."""
    sub = query.limit(cap + 1).subquery()
    return CappedCount(db.session.scalar(select(func.count()).select_from(sub)), cap)
