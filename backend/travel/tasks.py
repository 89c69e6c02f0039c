"""Celery entry point for the travel overdue job (daily, via beat)."""

from celery import shared_task

from backend.travel import jobs


@shared_task(name="travel.mark_overdue")
def mark_overdue():
    return jobs.mark_overdue()
