"""Test plumbing: the schema is built once by Alembic; each test runs in an outer transaction that is rolled back.

Services commit through transaction(); with join_transaction_mode="create_savepoint" those commits release
savepoints on the test's connection, and the final rollback undoes everything (style.md §8).
"""

import os
import tempfile
from contextlib import contextmanager, nullcontext

import pytest
from flask_migrate import upgrade
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

from backend import create_app as create_backend
from backend.extensions import db
from config.settings import Test
from tests import client, parallel


def test_database_url():
    """TEST_DATABASE_URL (or a temporary SQLite file, already one per process); under xdist `<db>_gw0` and so on
    (tests/parallel.py). Every sibling database (`<db>_gw0_<suffix>`) derives from this one."""
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        return _sqlite_url()
    return parallel.database_url(url.replace("postgresql://", "postgresql+psycopg://", 1))


def test_redis_url():
    """TEST_REDIS_URL; under xdist the worker's own db (tests/parallel.py)."""
    return parallel.redis_url(os.environ.get("TEST_REDIS_URL"))


_SQLITE_DIR = tempfile.mkdtemp(prefix="veterans-test-")


def _sqlite_url(name="test.db"):
    return f"sqlite:///{os.path.join(_SQLITE_DIR, name)}"


def is_postgres():
    return test_database_url().startswith("postgresql")


def make_config(database_url, **overrides):
    """A Test configuration class bound to `database_url`."""
    attrs = {
        "SQLALCHEMY_DATABASE_URI": database_url,
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        "UPLOAD_DIR": os.path.join(_SQLITE_DIR, "uploads"),
        "EXPORT_DIR": os.path.join(_SQLITE_DIR, "exports"),  # exports slice (issue 12)
        **overrides,
    }
    if "SQLALCHEMY_ENGINE_OPTIONS" in overrides:
        # Tests tune the pool; they never drop the base options (hide_parameters keeps SQL values out of logs).
        attrs["SQLALCHEMY_ENGINE_OPTIONS"] = {
            **Test.SQLALCHEMY_ENGINE_OPTIONS,
            **overrides["SQLALCHEMY_ENGINE_OPTIONS"],
        }
    return type("TestConfig", (Test,), attrs)


def reset_database(url):
    """Drop everything in the target database so Alembic builds it from empty."""
    if url.startswith("sqlite"):
        path = url.removeprefix("sqlite:///")
        if os.path.exists(path):
            os.remove(path)
        return
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


# dbroles slice: on PostgreSQL the suite migrates as the owner (TEST_DATABASE_URL) and runs every app engine as the
# app role, which owns nothing (TEST_APP_DATABASE_URL, or the owner URL with this user; trust auth on 127.0.0.1).
APP_ROLE = "veterans_app"


def test_app_database_url(owner_url=None):
    """The URL the test apps use for the database of `owner_url`: the app role on PostgreSQL, the same on SQLite."""
    owner_url = owner_url or test_database_url()
    if owner_url.startswith("sqlite"):
        return owner_url
    owner = make_url(owner_url)
    explicit = os.environ.get("TEST_APP_DATABASE_URL")
    app = make_url(explicit) if explicit else owner.set(username=APP_ROLE, password=None)
    return app.set(database=owner.database).render_as_string(hide_password=False)


def ensure_app_role(owner_url):
    """Create the app role (LOGIN, nothing else) if the cluster lacks it; roles are cluster-wide."""
    role = make_url(test_app_database_url(owner_url)).username
    engine = create_engine(owner_url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        with engine.connect() as conn:
            if not conn.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}).scalar():
                try:
                    conn.execute(text(f'CREATE ROLE "{role}" LOGIN'))
                except DBAPIError:  # created meanwhile by a parallel run
                    pass
    finally:
        engine.dispose()


def migrate_database(url):
    """Build the schema of `url` from empty as its owner; return the URL the apps use (the app role's).

    On PostgreSQL (issue 21: the suite's run time) Alembic runs once per test process, into `<test db>_template`;
    every database asked for is then created again as a copy of that template (well under a second, where the
    migrations take several)."""
    if url.startswith("sqlite"):
        return _alembic_upgrade(url)
    ensure_app_role(url)
    if not _TEMPLATE:
        parsed = make_url(test_database_url())
        _TEMPLATE.append(_alembic_upgrade(parallel.ensure_database(parsed.set(database=f"{parsed.database}_template"))))
    parallel.clone_database(make_url(url), make_url(_TEMPLATE[0]).database)
    return test_app_database_url(url)


_TEMPLATE = []  # the app URL of this process's migrated template database


def _alembic_upgrade(url):
    """Alembic from empty, as the owner of `url`; returns the app role's URL. Leaves no connection open."""
    reset_database(url)
    app_url = test_app_database_url(url)
    if url.startswith("sqlite"):
        app = create_backend(make_config(url))
    else:
        app = create_backend(make_config(app_url, MIGRATION_DATABASE_URL=url))
    with app.app_context():
        upgrade()
        db.engine.dispose()
    return app_url


def own_database(suffix, create_app, **engine_options):
    """An app on a PostgreSQL database of its own, migrated from empty, for tests that need real commits on
    separate connections (races, locks). Returns the app; dispose its engines with dispose_engines()."""
    parsed = make_url(test_database_url())  # per xdist worker: `<db>_gw0_<suffix>`
    app_url = migrate_database(parallel.ensure_database(parsed.set(database=f"{parsed.database}_{suffix}")))
    return create_app(make_config(app_url, SQLALCHEMY_ENGINE_OPTIONS=engine_options))


def pytest_configure(config):
    parallel.configure(config)
    client.install()


@pytest.hookimpl(tryfirst=True)  # before xdist reads the xdist_group marks that parallel.group adds
def pytest_collection_modifyitems(config, items):
    parallel.order(items)
    parallel.group(config, items)
    if not is_postgres():
        skip = pytest.mark.skip(reason="needs PostgreSQL row locks; set TEST_DATABASE_URL")
        for item in items:
            if "postgres" in item.keywords:
                item.add_marker(skip)
    if not _redis_available():
        skip = pytest.mark.skip(reason="needs Redis; set TEST_REDIS_URL (CI runs it on 127.0.0.1:6379)")
        for item in items:
            if "redis" in item.keywords:
                item.add_marker(skip)


def _redis_available():
    url = test_redis_url()
    if not url:
        return False
    import redis

    try:
        return redis.Redis.from_url(url, socket_timeout=1).ping()
    except redis.RedisError:
        return False


@pytest.fixture(scope="session")
def redis_url():
    return test_redis_url()


@pytest.fixture(scope="session")
def fake_wechat_server():
    """The fake WeChat server on a thread of the test process; tests reach its state through .fake."""
    from backend.wechat.fake_server import FakeWechat, serve_in_thread

    fake = FakeWechat()
    server, base = serve_in_thread(fake=fake)
    server.fake, server.base = fake, base
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def fake_wechat(fake_wechat_server):
    """The fake WeChat, reset; on teardown every send payload it received is scanned for personal data (S36)."""
    fake_wechat_server.fake.reset()
    yield fake_wechat_server.fake
    from tests.notifications.pii import leaks

    found = leaks(fake_wechat_server.fake.payloads)
    assert not found, f"personal data sent to WeChat: {found}"


@pytest.fixture(scope="session")
def config(fake_wechat_server):
    app_url = migrate_database(test_database_url())
    return make_config(app_url, WECHAT_API_BASE=fake_wechat_server.base)


@pytest.fixture(scope="session")
def apps(config):
    """The bare backend app (for service calls), the portal and the API, all on the test database."""
    from admin_portal import create_app as create_portal
    from miniprogram_api import create_app as create_api

    apps = {"backend": create_backend(config), "portal": create_portal(config), "api": create_api(config)}
    yield apps
    dispose_engines(*apps.values())


def dispose_engines(*flask_apps):
    for flask_app in flask_apps:
        with flask_app.app_context():
            for engine in db.engines.values():
                engine.dispose()


@pytest.fixture(scope="session")
def app(apps):
    return apps["backend"]


@pytest.fixture(scope="session")
def portal_app(apps):
    return apps["portal"]


@pytest.fixture(scope="session")
def api_app(apps):
    return apps["api"]


@pytest.fixture(autouse=True)
def _db(request, apps):
    """One outer transaction per test, shared by the test's service calls and every request it makes."""
    if "no_db" in request.keywords:
        yield None
        return
    if "shared_world" in request.keywords:  # issue 21: the module's world, this test in a savepoint
        shared = request.getfixturevalue("shared_world")
        _reset_rate_limits(apps)
        _clear_caches(apps)
        with shared.cell() as connection:
            yield connection
        return
    owner_engine = None
    if "as_owner" in request.fixturenames and is_postgres():
        # The test may step up to the owner inside its transaction; it starts as the app role like the others.
        owner_engine = create_engine(test_database_url(), poolclass=NullPool)
        connection = owner_engine.connect()
        outer = connection.begin()
        connection.execute(text(f'SET ROLE "{make_url(test_app_database_url()).username}"'))
    else:
        with apps["backend"].app_context():
            engine = db.engine
        connection = engine.connect()
        outer = connection.begin()
    swapped = []
    for flask_app in apps.values():
        with flask_app.app_context():
            engines = db.engines
            swapped.append((engines, dict(engines)))
            for key in list(engines):
                engines[key] = connection
    _reset_rate_limits(apps)
    _clear_caches(apps)
    ctx = apps["backend"].app_context()
    ctx.push()
    try:
        yield connection
    finally:
        db.session.remove()
        ctx.pop()
        for engines, original in swapped:
            engines.update(original)
        if outer.is_active:
            outer.rollback()
        connection.close()
        if owner_engine is not None:
            owner_engine.dispose()


@pytest.fixture(scope="module")
def shared_world(apps):
    """The world of a module marked shared_world, built once (tests/shared_world.py)."""
    from tests.shared_world import SharedWorld

    with SharedWorld(apps) as shared:
        yield shared


@pytest.fixture(autouse=True)
def kicked(monkeypatch):
    """Notification ids whose delivery would start after commit (tests run delivery themselves)."""
    calls = []
    monkeypatch.setattr("backend.notifications.dispatch.kick", calls.append)
    return calls


@pytest.fixture
def as_owner():
    """`with as_owner(): ...` runs statements as the table owner on the test's own connection (PostgreSQL; a no-op
    on SQLite), for tests that play an attacker with DDL rights or check the owner-level triggers. On an exception
    the block's savepoint is rolled back, which also restores the app role."""
    if not is_postgres():
        return nullcontext
    role = make_url(test_app_database_url()).username

    @contextmanager
    def owner():
        nested = db.session.begin_nested()
        db.session.execute(text("RESET ROLE"))
        try:
            yield
        except BaseException:
            nested.rollback()
            raise
        db.session.execute(text(f'SET ROLE "{role}"'))
        nested.commit()

    return owner


@pytest.fixture(scope="session")
def owner_engine(config):
    """An engine connected as the owner (the migration role), for cleanup of committed rows the app role may not
    delete (audit rows). Same as the app's engine on SQLite."""
    engine = create_engine(test_database_url(), poolclass=NullPool)
    yield engine
    engine.dispose()


def _clear_caches(apps):
    """lean slice (issue 12): cached account state (backend/cache.py) never outlives the test that made it."""
    from backend import cache

    for flask_app in apps.values():
        with flask_app.app_context():
            cache.clear()


def _reset_rate_limits(apps):
    from backend.extensions import api_limiter, portal_limiter

    for limiter, name in ((portal_limiter, "portal"), (api_limiter, "api")):
        with apps[name].app_context():
            if limiter.initialized:
                limiter.reset()


@pytest.fixture
def portal(portal_app):
    from tests.helpers import PortalClient

    return PortalClient(portal_app)


@pytest.fixture
def api(api_app):
    from tests.helpers import ApiClient

    return ApiClient(api_app)


@pytest.fixture
def world():
    from tests.factories import build_world

    return build_world()
