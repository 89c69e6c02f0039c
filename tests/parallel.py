"""Parallel runs (pytest-xdist, `make test`): each worker ("gw0", "gw1", ...) owns a database, its siblings
(own_database, the browser servers), a Redis db and a near-cache channel, so no two workers ever reset, flush or
hear the same one. Outside xdist (`-n0`, a plain `pytest`) nothing changes."""

import os
from urllib.parse import urlsplit, urlunsplit

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")

# The longest files start first (one long file must not be the last one handed out); the rest keep their order.
SLOW_FIRST = (
    "tests/api/test_schemathesis.py",
    "tests/browser/test_accessibility.py",
    "tests/notifications/test_crash.py",
    "tests/test_bench_baselines.py",
    "tests/bookings/test_concurrency_bookings.py",
)


def index():
    return int(WORKER.removeprefix("gw")) if WORKER else 0


def database_url(url):
    """A PostgreSQL URL's database with the worker suffix (`<db>_gw0`, created if missing); others as they are."""
    if not WORKER or not url.startswith("postgresql"):
        return url
    parsed = make_url(url)
    return ensure_database(parsed.set(database=f"{parsed.database}_{WORKER}"))


_ENSURED = set()


def ensure_database(parsed):
    """Create the PostgreSQL database of `parsed` (a URL) through the admin database if missing; return its URL."""
    url = parsed.render_as_string(hide_password=False)
    if url not in _ENSURED:
        admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT", poolclass=NullPool)
        try:
            with admin.connect() as conn:
                exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": parsed.database})
                if not exists.scalar():
                    conn.execute(text(f'CREATE DATABASE "{parsed.database}"'))
        finally:
            admin.dispose()
        _ENSURED.add(url)
    return url


def redis_url(url):
    """Worker gwN uses the Redis db `base - N` (base 15: gw0 15, gw1 14): tests flush their db, and the Celery crash
    test uses it as its broker."""
    if not url or not WORKER:
        return url
    parts = urlsplit(url)
    base = int(parts.path.strip("/") or 0)
    if base - index() < 0:
        raise pytest.UsageError(f"TEST_REDIS_URL db {base} leaves no Redis db for worker {WORKER}")
    return urlunsplit(parts._replace(path=f"/{base - index()}"))


def configure(config):
    """xdist's own reordering (files with the most tests first) would hand out the long single-test files last."""
    if getattr(config.option, "loadscopereorder", None):
        config.option.loadscopereorder = False
    if WORKER:  # Redis pub/sub ignores db numbers: the near caches' forgets (backend/nearcache.py) stay per worker
        from backend import nearcache

        nearcache.CHANNEL = f"veterans:cache:forget:{WORKER}"


def order(items):
    if WORKER:  # the same order on every worker (xdist checks that the collections match)
        rank = {path: i for i, path in enumerate(SLOW_FIRST)}
        items.sort(key=lambda item: rank.get(item.nodeid.split("::")[0], len(rank)))
