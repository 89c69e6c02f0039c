"""Mini program API: subscriptions."""
