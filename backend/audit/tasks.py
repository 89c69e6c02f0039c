"""Celery entry point for the audit sealer; beat runs it every AUDIT_SEAL_INTERVAL seconds (CELERY_BEAT_SCHEDULE)."""

from celery import shared_task

from backend.audit import chain


@shared_task(name="audit.seal")
def seal():
    result = chain.seal_pending()
    return {"sealed": result.sealed, "head": result.head.seq, "busy": result.busy}
