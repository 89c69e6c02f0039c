"""Workbench cards of employment (issue 19), registered with @card (admin_portal/home/cards.py)."""
