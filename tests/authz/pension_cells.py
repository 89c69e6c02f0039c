"""Authorization matrix cells of the retirement pay pages and GET /pension (issue 18)."""

PENSION_CELLS = {}
