"""Parallel runs (pytest-xdist, `make test`): each worker ("gw0", "gw1", ...) owns a database, its siblings
(own_database, the browser servers), a Redis db and a near-cache channel, so no two workers ever reset, flush or
hear the same one. Outside xdist (`-n0`, a plain `pytest`) nothing changes."""

import os
from collections import Counter
from urllib.parse import urlsplit, urlunsplit

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")

# The longest files start first (one long file must not be the last one handed out); the rest keep their order.
SLOW_FIRST = (
    "tests/authz/test_matrix.py",
    "tests/api/test_schemathesis.py",
    "tests/test_hostile_inputs.py",
    "tests/browser/test_accessibility.py",
    "tests/notifications/test_crash.py",
    "tests/test_bench_baselines.py",
    "tests/bookings/test_concurrency_bookings.py",
)


# Files too long to be one work unit: their tests are dealt, in order, into this many units (group below, `--dist
# loadgroup`), which the workers share.
SPLIT = {
    "tests/authz/test_matrix.py": 3,
    "tests/api/test_schemathesis.py": 4,  # its PARTS
    "tests/test_hostile_inputs.py": 2,
    "tests/browser/test_accessibility.py": 4,
}


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


def clone_database(parsed, template):
    """Drop the PostgreSQL database of `parsed` (a URL), closing its connections, and create it again as a copy of
    the database named `template` (which must have no connections)."""
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{parsed.database}" TEMPLATE "{template}"'))
    finally:
        admin.dispose()


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


def group(config, items):
    """`--dist loadgroup` (the Makefile's): each file is one work unit, as under loadfile, except the SPLIT files,
    dealt into several. Runs before xdist turns the marks into node id suffixes."""
    if not WORKER or not getattr(config.option, "loadgroup", False):  # xdist sets it on workers under loadgroup
        return
    paths = [item.nodeid.split("::")[0] for item in items]
    counts, seen = Counter(paths), Counter()
    for item, path in zip(items, paths, strict=True):
        name = path
        if path in SPLIT:
            name = f"{path}~{seen[path] * SPLIT[path] // counts[path]}"
            seen[path] += 1
        item.add_marker(pytest.mark.xdist_group(name))
