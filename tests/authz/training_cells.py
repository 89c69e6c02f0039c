"""Authorization matrix cells of the training pages (issue 19)."""

TRAINING_CELLS = {}
