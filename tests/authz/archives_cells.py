"""Authorization matrix cells of the archives pages and phone routes (issue 17)."""

ARCHIVES_CELLS = {}
