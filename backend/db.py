"""The unit of work: transaction(), after_commit(), portable column types."""

from contextlib import contextmanager
from datetime import UTC, datetime

from sqlalchemy import BigInteger, DateTime, Integer, event
from sqlalchemy.engine import Engine
from sqlalchemy.types import TypeDecorator

from backend.extensions import db

# BIGINT ids on PostgreSQL; SQLite only autoincrements "INTEGER PRIMARY KEY".
BigId = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator):
    """A timezone-aware UTC datetime on every engine (SQLite stores naive values)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def utcnow():
    return datetime.now(UTC)


@event.listens_for(Engine, "connect")
def _sqlite_on_connect(dbapi_connection, connection_record):
    """SQLite: enforce foreign keys and let SQLAlchemy own BEGIN, so SAVEPOINT works (the documented recipe)."""
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.close()


@event.listens_for(Engine, "begin")
def _sqlite_on_begin(conn):
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("BEGIN")


def _state():
    info = db.session().info
    return info.setdefault("uow", {"depth": 0, "after_commit": []})


@contextmanager
def transaction():
    """Run a block as one unit of work.

    The outermost block commits on success and rolls back on any exception; nested blocks join it, so services can
    call services. Callables queued with after_commit() run only after the outermost commit.
    """
    state = _state()
    state["depth"] += 1
    outermost = state["depth"] == 1
    try:
        yield db.session
        if outermost:
            db.session.commit()
    except BaseException:
        if outermost:
            db.session.rollback()
            state["after_commit"].clear()
        raise
    finally:
        state["depth"] -= 1
    if outermost:
        callbacks, state["after_commit"] = state["after_commit"], []
        for fn, args, kwargs in callbacks:
            fn(*args, **kwargs)


def after_commit(fn, *args, **kwargs):
    """Queue fn(*args, **kwargs) to run after the outermost transaction commits; dropped on rollback."""
    state = _state()
    if state["depth"] == 0:
        raise RuntimeError("after_commit() outside transaction()")
    state["after_commit"].append((fn, args, kwargs))
