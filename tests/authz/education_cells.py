"""Authorization matrix cells of the education pages (issue 19)."""

EDUCATION_CELLS = {}
