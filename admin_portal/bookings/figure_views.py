"""Weekly booking figures per station and service."""

from admin_portal.bookings import bp  # noqa: F401
