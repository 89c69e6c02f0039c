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


# lean slice (issue 12): no pool_pre_ping; a pooled connection is pinged only after DB_PING_IDLE_SECONDS idle.


def _pinged_engine(monkeypatch, idle_seconds, url=None):
    from sqlalchemy import create_engine

    from backend.db import install_idle_ping
    from tests.conftest import test_app_database_url

    engine = create_engine(url or test_app_database_url(), pool_size=1, max_overflow=0)
    install_idle_ping(engine, idle_seconds)
    pings = []
    real = engine.dialect.do_ping
    monkeypatch.setattr(engine.dialect, "do_ping", lambda dbapi_connection: pings.append(1) or real(dbapi_connection))
    return engine, pings


def _select_one(engine):
    from sqlalchemy import text

    with engine.connect() as conn:
        return conn.execute(text("SELECT 1")).scalar()


def test_a_hot_connection_is_not_pinged(monkeypatch):
    engine, pings = _pinged_engine(monkeypatch, idle_seconds=3600)
    try:
        for _ in range(5):
            assert _select_one(engine) == 1
        assert pings == []  # five checkouts of one pooled connection, no ping statement
    finally:
        engine.dispose()


def test_an_idle_connection_is_pinged_once_per_checkout(monkeypatch):
    engine, pings = _pinged_engine(monkeypatch, idle_seconds=0)
    try:
        for _ in range(3):
            assert _select_one(engine) == 1
        assert len(pings) == 2  # the first checkout connects fresh and is not pinged
    finally:
        engine.dispose()


def test_the_engines_have_no_pre_ping_and_the_idle_ping_setting(app):
    assert "pool_pre_ping" not in app.config["SQLALCHEMY_ENGINE_OPTIONS"]
    assert app.config["DB_PING_IDLE_SECONDS"] == 30


@pytest.mark.postgres
def test_a_connection_killed_server_side_is_replaced_transparently(monkeypatch):
    from sqlalchemy import create_engine, text

    from tests.conftest import test_database_url

    engine, pings = _pinged_engine(monkeypatch, idle_seconds=0)
    owner = create_engine(test_database_url())
    try:
        with engine.connect() as conn:
            pid = conn.execute(text("SELECT pg_backend_pid()")).scalar()
        with owner.connect() as conn:  # the owner (a superuser in tests) may end another role's backend
            assert conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar()
        with engine.connect() as conn:  # the pooled connection is dead: the ping finds it, the pool reconnects
            assert conn.execute(text("SELECT pg_backend_pid()")).scalar() != pid
        assert len(pings) == 1
    finally:
        engine.dispose()
        owner.dispose()
