"""A live server on a database of its own, and a Playwright page on a thread of its own, for browser journeys that
live outside tests/browser's shared server (tests/notifications/test_calls_journey.py,
tests/browser/test_counter_journey.py): tests/browser keeps its sync Playwright open on the main thread for the
whole session, and a second one cannot start there; its server's database is reset under it by its own tests."""

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from urllib.parse import urlsplit

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from werkzeug.middleware.dispatcher import DispatcherMiddleware
from werkzeug.serving import make_server

from tests import conftest as base
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS


def database_url(suffix):
    """The test database's sibling `<name>_<suffix>` (created if missing), or a SQLite file of that name."""
    url = base.test_database_url()
    if url.startswith("sqlite"):
        return base._sqlite_url(f"browser_{suffix}.db")
    parsed = make_url(url)
    name = f"{parsed.database}_{suffix}"
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if not conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).scalar():
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return parsed.set(database=name).render_as_string(hide_password=False)


def live_server(suffix):
    """Generator for a module fixture: yields (base_url, backend_app) of a live portal + API with CSRF on."""
    if not os.path.exists(CHROMIUM):
        if os.environ.get("REQUIRE_BROWSER"):
            pytest.fail(f"{CHROMIUM} is missing")
        pytest.skip(f"{CHROMIUM} not installed")
    from admin_portal import create_app as create_portal
    from backend import create_app as create_backend
    from miniprogram_api import create_app as create_api

    config = base.make_config(base.migrate_database(database_url(suffix)), WTF_CSRF_ENABLED=True)
    portal, api, backend = create_portal(config), create_api(config), create_backend(config)
    server = make_server("127.0.0.1", 0, DispatcherMiddleware(portal, {"/api": api}), threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}", backend
    server.shutdown()
    server.server_close()
    base.dispose_engines(portal, api, backend)


@contextmanager
def page():
    """A page of its own (call it on a worker thread: see run_in_thread); requests leave only for localhost."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        context = browser.new_context(locale="zh-CN")
        local = ("127.0.0.1", "localhost")
        context.route("**/*", lambda r: r.continue_() if urlsplit(r.request.url).hostname in local else r.abort())
        yield context.new_page()
        browser.close()


def run_in_thread(steps, *args):
    """Run `steps(page, *args)` with a page of its own on a worker thread; re-raises its failure here."""

    def journey():
        with page() as tab:
            steps(tab, *args)

    with ThreadPoolExecutor(1) as pool:
        pool.submit(journey).result()
