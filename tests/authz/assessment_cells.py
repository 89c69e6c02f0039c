"""Authorization matrix cells of the assessment pages and phone routes (issue 20)."""

ASSESSMENT_CELLS = {}
