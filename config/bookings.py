"""bookings slice (issue 14): service bookings' settings (backend/bookings/), mixed into Base."""

from config.env import env_int


class BookingSettings:
    BOOKING_NO_SHOW_LIMIT = env_int("BOOKING_NO_SHOW_LIMIT", 3)  # no-shows within the window that block booking
    BOOKING_NO_SHOW_WINDOW_DAYS = env_int("BOOKING_NO_SHOW_WINDOW_DAYS", 90)
    BOOKING_BLOCK_DAYS = env_int("BOOKING_BLOCK_DAYS", 30)  # how long such a veteran cannot book (staff may lift it)
    BOOKING_MAX_AHEAD_DAYS = env_int("BOOKING_MAX_AHEAD_DAYS", 60)  # the longest booking window a service may open
    BOOKING_REMIND_HOUR_CST = env_int("BOOKING_REMIND_HOUR_CST", 9)  # the day-before reminder goes out from this hour
    BOOKING_AUTO_CLOSE_HOURS = env_int("BOOKING_AUTO_CLOSE_HOURS", 24)  # then booked -> no_show, checked_in -> done
