"""Workbench cards of assessment (issue 20), registered with @card (admin_portal/home/cards.py)."""
