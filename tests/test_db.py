"""The unit of work: one commit per outermost transaction(), after_commit only on success."""

import pytest
from sqlalchemy import func, select

from backend.db import after_commit, transaction
from backend.extensions import db
from backend.orgs.models import OrgUnit
from tests.factories import create_unit


def _count():
    return db.session.scalar(select(func.count()).select_from(OrgUnit))


def test_after_commit_runs_after_outermost_commit_only():
    calls = []
    with transaction():
        with transaction():
            after_commit(calls.append, "inner")
        assert calls == []
        create_unit()
    assert calls == ["inner"]


def test_exception_rolls_back_everything_and_drops_callbacks():
    calls = []
    before = _count()
    with pytest.raises(ValueError):
        with transaction():
            create_unit()  # a nested transaction(): joins, does not commit
            after_commit(calls.append, "never")
            raise ValueError
    assert _count() == before and calls == []


def test_after_commit_outside_transaction_is_an_error():
    with pytest.raises(RuntimeError):
        after_commit(print)


def test_utc_datetime_round_trips_aware(world):
    assert world.x.created_at.tzinfo is not None
    db.session.expire_all()
    unit = db.session.get(OrgUnit, world.x.id)
    assert unit.created_at.utcoffset().total_seconds() == 0
