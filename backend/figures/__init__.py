"""Figures by aggregation: per-unit subtree totals rolled up by a scheduled job and read by every figures page."""
