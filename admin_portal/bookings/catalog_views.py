"""Services, working plans and the station calendar (station staff and above; the national calendar: sys admin)."""

from admin_portal.bookings import bp  # noqa: F401
