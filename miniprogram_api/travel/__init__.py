"""Mini program API: travel reports."""
