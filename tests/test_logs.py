"""Log lines: personal data redacted, control characters escaped, request id attached."""

import logging

import pytest

from backend.logs import RequestIdFilter, SafeFormatter, redact, reset_request_context, set_request_context

pytestmark = pytest.mark.no_db


def test_redact_masks_id_numbers_mobiles_and_tokens():
    line = redact("id 11010519491231002X phone 13800138000 +8613900139000 jwt eyJa.eyJb.sig")
    assert "11010519491231002X" not in line and "13800138000" not in line and "13900139000" not in line
    assert "eyJa.eyJb.sig" not in line
    assert "[ID]" in line and "[MOBILE]" in line and "[TOKEN]" in line


def test_redact_escapes_control_characters():
    assert redact("a\nb\rc\x1bd") == "a\\nb\\rc\\x1bd"


def test_formatter_adds_request_id_and_redacts():
    record = logging.LogRecord("t", logging.INFO, __file__, 1, "user %s", ("13800138000",), None)
    tokens = set_request_context("abc123")
    try:
        RequestIdFilter().filter(record)
    finally:
        reset_request_context(tokens)
    out = SafeFormatter("[%(request_id)s] %(message)s").format(record)
    assert out == "[abc123] user [MOBILE]"


# --- issue 10: database errors never log SQL parameters; personal data redacted on every handler --------------------

PERSONAL = {
    "name": "张三丰",
    "id_number": "11010519491231002X",
    "phone": "13800138000",
    "address": "北京市朝阳区幸福路88号院",
    "password_hash": "pbkdf2:sha256:600000$Xq9salt$0f1e2d3c4b5a69788796a5b4c3d2e1f0",
    "session_token": "s3ss10n-t0k3n-9c1b7e54d2a8",
}


def _force_database_errors(engine_options, caplog):
    """Insert personal values so that the database refuses them (a unique violation, a value too long or a failed
    check), with SQL logging on, and log each error as the 500 handler does. Returns what the app's log handler
    wrote (backend/logs.py build_handler, as configure_logging installs it)."""
    import io
    import tempfile

    from sqlalchemy import create_engine, exc, text

    from backend.logs import build_handler
    from tests.conftest import test_database_url

    url = test_database_url()
    if url.startswith("sqlite"):
        url = f"sqlite:///{tempfile.mkdtemp(prefix='veterans-logs-')}/errors.db"
    caplog.set_level(logging.INFO, logger="sqlalchemy.engine")
    stream = io.StringIO()
    handler = build_handler(stream)
    root = logging.getLogger()
    root.addHandler(handler)
    engine = create_engine(url, **engine_options)
    errors = []
    try:
        with engine.connect() as conn:
            conn.execute(
                text(
                    "CREATE TEMPORARY TABLE probe (name VARCHAR(16) NOT NULL UNIQUE CHECK (length(name) <= 16), "
                    "id_number VARCHAR(18), phone VARCHAR(11), address VARCHAR(16) CHECK (length(address) <= 16), "
                    "secret VARCHAR(200))"
                )
            )
            row = {
                "n": PERSONAL["name"],
                "i": PERSONAL["id_number"],
                "p": PERSONAL["phone"],
                "a": PERSONAL["address"][:12],
                "s": PERSONAL["password_hash"] + PERSONAL["session_token"],
            }
            insert = text("INSERT INTO probe VALUES (:n, :i, :p, :a, :s)")
            conn.execute(insert, row)
            # a duplicate ("Key (name)=(…)"), a value too long, a NULL ("Failing row contains (…)" on PostgreSQL)
            for params in (row, {**row, "n": "另一人", "a": PERSONAL["address"] * 3}, {**row, "n": None}):
                savepoint = conn.begin_nested()
                try:
                    conn.execute(insert, params)
                except (exc.IntegrityError, exc.DataError) as error:
                    errors.append(error)
                    logging.getLogger("miniprogram_api.errors").exception("unhandled exception")
                savepoint.rollback()
    finally:
        engine.dispose()
        root.removeHandler(handler)
    assert len(errors) == 3
    return stream.getvalue()


@pytest.mark.parametrize("hidden", [True, False])
def test_database_errors_log_no_personal_values(caplog, hidden):
    from config.settings import Test

    options = {**Test.SQLALCHEMY_ENGINE_OPTIONS}
    if not hidden:  # the control: without hide_parameters the same errors do leak, so the check below can fail
        options["hide_parameters"] = False
    logged = _force_database_errors(options, caplog)
    leaked = [key for key, value in PERSONAL.items() if value[:8] in logged]
    if hidden:
        assert "INSERT INTO probe" in logged and leaked == [], leaked
    else:
        assert {"name", "password_hash"} <= set(leaked)


def test_both_apps_engines_hide_parameters(apps):
    from backend.extensions import db

    for name in ("portal", "api", "backend"):
        with apps[name].app_context():
            assert db.engine.hide_parameters is True, name


def test_redacting_filter_cleans_records_for_any_handler():
    """Defence in depth: a handler with a plain formatter (Celery's, gunicorn's) still gets no personal data."""
    import io

    from backend.logs import add_redaction

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(message)s"))
    add_redaction([handler])
    add_redaction([handler])  # idempotent
    assert len(handler.filters) == 1
    logger = logging.getLogger("tests.redaction")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        try:
            raise ValueError(f"bad row {PERSONAL['id_number']} {PERSONAL['phone']}")
        except ValueError:
            logger.exception("token %s for %s", "eyJhbGciOi.eyJzdWIiOiIxIn0.c2ln", PERSONAL["phone"])
    finally:
        logger.removeHandler(handler)
        logger.propagate = True
    out = stream.getvalue()
    assert PERSONAL["id_number"] not in out and PERSONAL["phone"] not in out and "eyJhbGciOi" not in out
    assert "[ID]" in out and "[MOBILE]" in out and "[TOKEN]" in out and "Traceback" in out


def test_celery_handlers_get_the_redacting_filter():
    from celery import signals

    from backend.logs import RedactingFilter, install_celery_log_redaction

    install_celery_log_redaction()
    logger = logging.getLogger("tests.celery-root")
    handler = logging.StreamHandler()
    logger.addHandler(handler)
    try:
        signals.after_setup_logger.send(sender=None, logger=logger, loglevel=logging.INFO, logfile=None)
        assert any(isinstance(f, RedactingFilter) for f in handler.filters)
    finally:
        logger.removeHandler(handler)
