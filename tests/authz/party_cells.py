"""Authorization matrix cells of the party pages (issue 19)."""

PARTY_CELLS = {}
