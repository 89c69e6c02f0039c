"""Mini program API: me."""
