"""Authorization matrix cells of the feedback pages and phone routes (issue 20)."""

FEEDBACK_CELLS = {}
