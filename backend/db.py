"""The unit of work: transaction(), after_commit(), portable column types."""

import time
from contextlib import contextmanager
from datetime import UTC, datetime

from sqlalchemy import BigInteger, DateTime, Integer, event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session
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


def install_idle_ping(engine, idle_seconds):
    """Check a pooled connection at checkout only when it sat idle in the pool longer than `idle_seconds`.

    Replaces pool_pre_ping, which costs a round trip on every checkout. A connection that fails the ping is
    discarded and the pool hands out another (a fresh one is not pinged: it has just connected). A hot connection
    killed server-side is not caught here: its statement fails once and SQLAlchemy invalidates the pool, so the
    next checkout reconnects; pool_recycle bounds how old a connection gets.
    """
    if idle_seconds is None or idle_seconds < 0:
        return

    @event.listens_for(engine, "checkin")
    def _stamp(dbapi_connection, record):
        if record is not None:
            record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping_if_idle(dbapi_connection, record, proxy):
        since = record.info.pop("idle_since", None)
        if since is None or time.monotonic() - since <= idle_seconds:
            return
        dialect = engine.dialect
        try:
            dialect.do_ping(dbapi_connection)
            dbapi_connection.rollback()  # the ping's SELECT opened a transaction on a non-autocommit driver
        except dialect.loaded_dbapi.Error as error:
            if dialect.is_disconnect(error, dbapi_connection, None):
                raise DisconnectionError() from error  # the pool invalidates it and checks out another
            raise


def install_statement_timeout(engine, milliseconds):
    """Issue 21 (P9): every statement on this engine's PostgreSQL connections is cancelled after `milliseconds`.

    Passed as the libpq `options` of each new connection (no extra round trip, and it survives the pool's rollback,
    which a plain SET inside a transaction would not). Only the web processes call this (install_web_limits): a
    Celery job or a migration may legitimately run longer. None or 0 sets nothing; SQLite is left alone.
    """
    if not milliseconds or milliseconds <= 0 or engine.dialect.name != "postgresql":
        return

    @event.listens_for(engine, "do_connect")
    def _with_timeout(dialect, conn_rec, cargs, cparams):
        options = cparams.get("options", "")
        cparams["options"] = f"{options} -c statement_timeout={int(milliseconds)}".strip()


def install_web_limits(app):
    """Issue 21: the web factories' bound on every query (DB_STATEMENT_TIMEOUT_MS) on each engine of `app`."""
    with app.app_context():
        for engine in db.engines.values():
            install_statement_timeout(engine, app.config.get("DB_STATEMENT_TIMEOUT_MS"))


def is_statement_timeout(error):
    """True for a statement PostgreSQL cancelled (SQLSTATE 57014: statement_timeout or a cancel request)."""
    return getattr(getattr(error, "orig", None), "sqlstate", None) == "57014"


@event.listens_for(Session, "do_orm_execute")
def _note_bulk_write(state):
    """A bulk UPDATE/DELETE (or textual SQL) may change rows the session holds without it knowing. A statement run
    with execution_options(session_safe=True) is one whose caller expires what it changed (expire_loaded)."""
    if state.execution_options.get("session_safe"):
        return
    if state.is_update or state.is_delete or not (state.is_select or state.is_insert):
        state.session.info["bulk_write"] = True


@event.listens_for(Session, "after_commit")
def _expire_after_bulk_write(session):
    """The session keeps objects after commit (expire_on_commit=False, backend/extensions.py) except after a bulk
    write in the transaction: then everything is expired, as expire_on_commit would, so nothing stale is read."""
    if session.info.pop("bulk_write", False):
        session.expire_all()


def expire_loaded(model, ident, *attributes):
    """Expire `attributes` of the `model` row `ident` if the session holds it (after a session_safe bulk write)."""
    from sqlalchemy.orm.util import identity_key

    obj = db.session.identity_map.get(identity_key(model, ident))
    if obj is not None:
        db.session.expire(obj, list(attributes) or None)


def rows_by_id(model, ids):
    """{id: row} of `model`: rows the session already holds unexpired are not read again (one IN for the rest)."""
    from sqlalchemy import inspect, select
    from sqlalchemy.orm.util import identity_key

    found = {}
    for ident in ids:
        obj = db.session.identity_map.get(identity_key(model, ident))
        if obj is not None and not inspect(obj).expired_attributes:
            found[ident] = obj
    missing = set(ids) - found.keys()
    if missing:
        found.update((row.id, row) for row in db.session.scalars(select(model).where(model.id.in_(missing))))
    return found


@event.listens_for(Session, "after_rollback")
def _forget_bulk_write(session):
    session.info.pop("bulk_write", None)


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
