"""Background jobs of feedback (explicit names, idempotent), hourly from beat (config/settings.py)."""

from celery import shared_task


@shared_task(name="feedback.hourly")
def hourly():
    """Overdue cases move one unit up (never above the province); then the inbox prompt to rate recent services,
    once per new event. Both idempotent."""
    from backend.feedback import handling, prompts

    return {"escalated": handling.escalate_overdue(), "prompted": prompts.prompt_pending()}
