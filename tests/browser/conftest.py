"""Browser tests: the composed wsgi app in a thread on a free port, against a database of its own, driven by
Playwright in the system Chromium (never a downloaded browser). Any request to a non-local host fails the test."""

import os
import shutil
import threading
from urllib.parse import urlsplit

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from werkzeug.middleware.dispatcher import DispatcherMiddleware
from werkzeug.serving import make_server

from tests.conftest import _sqlite_url, dispose_engines, make_config, migrate_database, test_database_url

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _browser_database_url():
    url = test_database_url()
    if url.startswith("sqlite"):
        return _sqlite_url("browser.db")
    parsed = make_url(url)
    name = f"{parsed.database}_browser"
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if not conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).scalar():
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return parsed.set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def live(request):
    """(base_url, backend_app) of a live server with CSRF on."""
    if not shutil.which(CHROMIUM) and not os.path.exists(CHROMIUM):
        if os.environ.get("REQUIRE_BROWSER"):
            pytest.fail(f"{CHROMIUM} is missing; CI must install Debian's chromium")
        pytest.skip(f"{CHROMIUM} not installed (apt-get install chromium)")
    from admin_portal import create_app as create_portal
    from backend import create_app as create_backend
    from miniprogram_api import create_app as create_api

    url = _browser_database_url()
    app_url = migrate_database(url)
    config = make_config(app_url, WTF_CSRF_ENABLED=True)
    portal, api, backend = create_portal(config), create_api(config), create_backend(config)
    application = DispatcherMiddleware(portal, {"/api": api})
    server = make_server("127.0.0.1", 0, application, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", backend
    server.shutdown()
    server.server_close()
    dispose_engines(portal, api, backend)


@pytest.fixture(scope="session")
def browser(live):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(locale="zh-CN")
    foreign = []

    def guard(route):
        host = urlsplit(route.request.url).hostname
        if host in ("127.0.0.1", "localhost"):
            route.continue_()
        else:
            foreign.append(route.request.url)
            route.abort()

    context.route("**/*", guard)
    page = context.new_page()
    yield page
    context.close()
    assert not foreign, f"the page requested non-local hosts: {foreign}"
