"""The counter: the day's bookings, check-in by code, completion, no-shows, booking on behalf, cancellations."""

from admin_portal.bookings import bp  # noqa: F401
