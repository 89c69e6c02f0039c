"""Issue 21 (P9): the web processes' statement_timeout. A query cancelled by it answers a clean 503 server.busy in
both apps, never a 500; the bare backend app (the Celery worker, migrations) gets no timeout."""

import pytest
from sqlalchemy import text

from backend import create_app as create_backend
from backend.db import install_statement_timeout
from backend.extensions import db
from config.settings import Base, Production
from tests import conftest
from tests.conftest import dispose_engines, make_config

pytestmark = [pytest.mark.postgres, pytest.mark.no_db]

TIMEOUT_MS = 150


def _sleep():
    db.session.execute(text("SELECT pg_sleep(5)"))  # far past the timeout: only a cancel ends it early
    return "slept"


def _show():
    return db.session.execute(text("SHOW statement_timeout")).scalar()


def _web_app(factory, timeout_ms=TIMEOUT_MS):
    app = factory(make_config(conftest.test_app_database_url(), DB_STATEMENT_TIMEOUT_MS=timeout_ms))
    app.add_url_rule("/__test/sleep", "test_sleep", _sleep)  # test-only routes, on this app alone
    app.add_url_rule("/__test/show", "test_show", _show)
    return app


@pytest.fixture
def api():
    from miniprogram_api import create_app

    app = _web_app(create_app)
    yield app
    dispose_engines(app)


@pytest.fixture
def portal():
    from admin_portal import create_app

    app = _web_app(create_app)
    yield app
    dispose_engines(app)


def test_api_answers_503_server_busy_in_the_envelope(api):
    response = api.test_client().get("/__test/sleep")
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    error = response.get_json()["error"]
    assert error["code"] == "server.busy" and error["message"] == "系统繁忙，请稍后再试"
    # the connection went back to the pool in a clean state: the next request on it works
    assert api.test_client().get("/__test/show").get_data(as_text=True) == f"{TIMEOUT_MS}ms"


def test_portal_answers_a_503_page(portal):
    response = portal.test_client().get("/__test/sleep")
    assert response.status_code == 503
    assert "系统繁忙" in response.get_data(as_text=True)


def test_other_database_failures_stay_500(api):
    api.add_url_rule("/__test/broken", "test_broken", lambda: db.session.execute(text("SELECT * FROM no_such_table")))
    response = api.test_client().get("/__test/broken")
    assert response.status_code == 500 and response.get_json()["error"]["code"] == "server.internal_error"


def test_worker_and_migrations_get_no_timeout():
    """backend.create_app (the Celery worker, `flask --app backend db upgrade`) does not install it."""
    app = create_backend(make_config(conftest.test_app_database_url(), DB_STATEMENT_TIMEOUT_MS=TIMEOUT_MS))
    try:
        with app.app_context():
            assert _show() == "0"
    finally:
        dispose_engines(app)


def test_zero_means_none(api):
    from miniprogram_api import create_app

    app = _web_app(create_app, timeout_ms=0)
    try:
        assert app.test_client().get("/__test/show").get_data(as_text=True) == "0"
    finally:
        dispose_engines(app)


def test_defaults_production_8000_elsewhere_none():
    assert Production.DB_STATEMENT_TIMEOUT_MS == 8000
    assert Base.DB_STATEMENT_TIMEOUT_MS == 0


def test_sqlite_engine_is_left_alone():
    from sqlalchemy import create_engine

    engine = create_engine("sqlite://")
    install_statement_timeout(engine, TIMEOUT_MS)  # no listener, no error
    with engine.connect() as conn:
        assert conn.execute(text("SELECT 1")).scalar() == 1
