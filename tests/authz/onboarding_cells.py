"""Authorization matrix cells of the onboarding pages and phone routes (issue 17)."""

ONBOARDING_CELLS = {}
