"""Workbench cards of onboarding (issue 17): overdue work, registered with @card (admin_portal/home/cards.py)."""
