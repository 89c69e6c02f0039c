"""Workbench cards of education (issue 19), registered with @card (admin_portal/home/cards.py)."""
