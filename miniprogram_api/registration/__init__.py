"""Mini program API: annual registration."""
