"""Mini program API: services and bookings."""
