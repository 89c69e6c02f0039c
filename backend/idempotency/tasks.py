"""Celery entry point for purging expired idempotency keys (via beat)."""

from celery import shared_task

from backend.idempotency import service


@shared_task(name="idempotency.purge_expired")
def purge_expired():
    return service.purge_expired()
