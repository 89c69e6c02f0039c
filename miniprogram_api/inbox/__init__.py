"""Mini program API: inbox."""
