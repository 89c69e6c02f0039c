"""Org units (province > city > county > station > grid) and data scope."""
