"""Mini program API: auth."""
