"""Service bookings at stations (issue 14): catalog and working plan, China's calendar, slots that are never
overbooked, the counter (check-in, completion, no-shows), reminders."""
