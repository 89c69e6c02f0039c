"""Counts for dashboards that stay cheap on large tables: count at most `cap` + 1 rows, show "1000+" beyond."""

from dataclasses import dataclass

from sqlalchemy import func, select

from backend.extensions import db

DEFAULT_CAP = 1000


@dataclass(frozen=True)
class CappedCount:
    value: int
    cap: int

    @property
    def capped(self):
        return self.value > self.cap

    def __str__(self):
        return f"{self.cap}+" if self.capped else str(self.value)


def capped_count(query, cap=DEFAULT_CAP):
    """How many rows `query` (a SELECT) returns, counting no further than `cap` + 1 (an indexed LIMIT, never a full
    COUNT of a large table)."""
    sub = query.limit(cap + 1).subquery()
    return CappedCount(db.session.scalar(select(func.count()).select_from(sub)), cap)
