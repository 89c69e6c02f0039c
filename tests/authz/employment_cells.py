"""Authorization matrix cells of the employment pages (issue 19)."""

EMPLOYMENT_CELLS = {}
