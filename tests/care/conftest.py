"""care slice (issue 16, C1): tasks enqueued by the code under test are recorded, not sent (tests run them)."""

import pytest


@pytest.fixture(autouse=True)
def enqueued(monkeypatch):
    calls = []
    monkeypatch.setattr("backend.tasks.enqueue", lambda task, *args, **kw: calls.append((task.name, args)))
    return calls
