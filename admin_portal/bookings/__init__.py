"""Booking pages (issue 14): the catalog and calendar, the counter, the weekly figures."""

from flask import Blueprint

bp = Blueprint("bookings", __name__)

from admin_portal.bookings import catalog_views, counter_views, figure_views  # noqa: E402, F401
