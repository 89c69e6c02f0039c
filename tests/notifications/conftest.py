"""Fixtures shared by the notification pipeline's tests."""

from datetime import UTC, datetime

import pytest

from backend.notifications import delivery as pipeline
from backend.notifications import watchdog


@pytest.fixture
def clock(monkeypatch):
    """A settable now for the pipeline and the watchdog (the rate limiter keeps real time)."""
    state = {"now": datetime(2027, 3, 1, 4, 0, tzinfo=UTC)}  # 12:00 CST
    for module in (pipeline, watchdog):
        monkeypatch.setattr(module, "utcnow", lambda: state["now"])
    return state
