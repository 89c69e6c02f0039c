"""Celery entry points for the registration jobs (scheduled by beat, see CELERY_BEAT_SCHEDULE)."""

from celery import shared_task

from backend.registration import jobs


@shared_task(name="registration.mark_overdue")
def mark_overdue():
    return jobs.mark_overdue()


@shared_task(name="registration.send_reminders")
def send_reminders():
    return jobs.send_reminders()
