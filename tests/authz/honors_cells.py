"""Authorization matrix cells of the honors pages and phone routes (issue 17)."""

HONORS_CELLS = {}
