"""Workbench cards of feedback (issue 20), registered with @card (admin_portal/home/cards.py)."""
