"""Small helpers the honors pages share."""

from flask import request
from flask_login import current_user


def actor():
    return current_user._get_current_object()


def form_values(fields, limit=4000):
    return {key: (request.form.get(key) or "")[:limit] for key in fields}


def form_errors(error):
    """A ValidationFailed's field messages, or the error's message under "form"."""
    details = error.details if isinstance(error.details, dict) else {}
    placed = {k: v for k, v in details.items() if isinstance(v, str)}
    return placed or {"form": error.message}


def flash_text(error):
    details = [v for v in (error.details or {}).values() if isinstance(v, str)]
    return "；".join(details) if details and error.status == 422 else error.message
