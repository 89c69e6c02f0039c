"""Retirement pay pages (issue 18): a veteran's pay, adjustment batches, monthly payroll runs, bank layouts, rules."""

from flask import Blueprint

bp = Blueprint("pension", __name__)

from admin_portal.pension import (  # noqa: E402, F401  (parts 1, 2; part 3: funding, layout, payroll views)
    adjust_views,
    funding_views,
    layout_views,
    payroll_views,
    rule_views,
    veteran_views,
    views,
)
