"""Retirement pay pages (issue 18): a veteran's pay, adjustment batches, monthly payroll runs, bank layouts, rules."""

from flask import Blueprint

bp = Blueprint("pension", __name__)

from admin_portal.pension import views  # noqa: E402, F401
