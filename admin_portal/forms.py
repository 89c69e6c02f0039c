"""Form helpers shared by the portal's capabilities."""

from flask import flash
from flask_wtf import FlaskForm
from wtforms import SelectMultipleField, widgets


class ConfirmForm(FlaskForm):
    """A button that POSTs with a CSRF token and nothing else."""


class MultiCheckboxField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


def parse_id(value):
    """A record id chosen in a form, or 0 for blank or anything that is not one (the service refuses 0 like a missing
    record); never raises, whatever a forged form carries."""
    value = (value or "").strip() if isinstance(value, str) else ""
    return int(value) if value.isascii() and value.isdigit() and len(value) <= 18 else 0


def apply_error(form, error):
    """Show a service's AppError on the form: per-field messages where it names fields, else a flash message."""
    placed = False
    for name, message in (error.details or {}).items():
        field = getattr(form, name, None)
        if field is not None and hasattr(field, "errors"):
            field.errors = list(field.errors) + [message]
            placed = True
    if not placed:
        flash(error.message, "danger")
