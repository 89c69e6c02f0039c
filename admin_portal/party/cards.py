"""Workbench cards of party (issue 19), registered with @card (admin_portal/home/cards.py)."""
