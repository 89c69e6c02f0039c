"""Logging: a request id on every line, control characters escaped, personal data redacted as a last line of defence.

Code must not log personal data in the first place; the redaction only catches mistakes.
"""

import logging
import re
import secrets
from contextvars import ContextVar

_request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
_source_ip: ContextVar[str | None] = ContextVar("source_ip", default=None)

ID_NUMBER_RE = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")
MOBILE_RE = re.compile(r"(?<!\d)(?:\+?86)?1[3-9]\d{9}(?!\d)")
JWT_RE = re.compile(r"eyJ[\w-]+\.[\w-]+\.[\w-]+")
CONTROL_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
# PostgreSQL's error detail quotes the offending values ("Key (name)=(…) already exists", "Failing row contains (…)"),
# which hide_parameters does not cover: drop the whole line.
DB_DETAIL_RE = re.compile(r"^(DETAIL|CONTEXT):[^\n]*", re.MULTILINE)


def new_request_id():
    return secrets.token_hex(12)


def set_request_context(request_id, source_ip=None):
    """Bind the request id and client address for logs and audit rows; returns tokens for reset."""
    return _request_id.set(request_id), _source_ip.set(source_ip)


def reset_request_context(tokens):
    _request_id.reset(tokens[0])
    _source_ip.reset(tokens[1])


def current_request_id():
    return _request_id.get()


def current_source_ip():
    return _source_ip.get()


def redact_personal(text):
    """Mask ID numbers, mobile numbers and JWTs; keep the layout (a traceback stays multi-line)."""
    text = DB_DETAIL_RE.sub(r"\1: [hidden]", text)
    text = ID_NUMBER_RE.sub("[ID]", text)
    text = MOBILE_RE.sub("[MOBILE]", text)
    return JWT_RE.sub("[TOKEN]", text)


def redact(text):
    text = redact_personal(text).replace("\n", "\\n").replace("\r", "\\r")
    return CONTROL_RE.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


class RequestIdFilter(logging.Filter):
    def filter(self, record):
        record.request_id = current_request_id() or "-"
        return True


class SafeFormatter(logging.Formatter):
    def format(self, record):
        return redact(super().format(record))


class RedactingFilter(logging.Filter):
    """Defence in depth for handlers this module does not format (Celery's, gunicorn's, a log shipper's): rewrite the
    record itself so its message and traceback carry no ID number, mobile number or token, whoever formats it."""

    _formatter = logging.Formatter()

    def filter(self, record):
        if getattr(record, "_redacted", False):
            return True
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: keep the template, drop the arguments
            message = str(record.msg)
        record.msg, record.args = redact_personal(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = self._formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact_personal(record.exc_text)
        if record.stack_info:
            record.stack_info = redact_personal(record.stack_info)
        record._redacted = True
        return True


def add_redaction(handlers):
    """Put a RedactingFilter on each handler (once)."""
    for handler in handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())


def build_handler(stream=None):
    """The app's log handler: request id, redaction of the record (for every later handler too), safe formatting."""
    handler = logging.StreamHandler(stream)
    handler._veterans = True
    handler.addFilter(RequestIdFilter())
    handler.addFilter(RedactingFilter())
    handler.setFormatter(SafeFormatter("%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"))
    return handler


def configure_logging(app):
    """Install one handler on the root logger (idempotent)."""
    root = logging.getLogger()
    if not any(getattr(h, "_veterans", False) for h in root.handlers):
        root.addHandler(build_handler())
    add_redaction(root.handlers)  # every handler on the root, ours or installed before us
    root.setLevel(app.config.get("LOG_LEVEL", "INFO"))
    # Werkzeug's access log would print query strings, which may carry search terms such as ID numbers.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)


def install_celery_log_redaction():
    """Celery replaces the root logger's handlers when a worker starts; redact on the handlers it installs."""
    from celery import signals

    def _redact_handlers(logger=None, **kwargs):
        if logger is not None:
            add_redaction(logger.handlers)

    signals.after_setup_logger.connect(_redact_handlers, weak=False)
    signals.after_setup_task_logger.connect(_redact_handlers, weak=False)
