"""Background jobs of exports: build one export (its own queue, its own time limits), purge expired files."""

from celery import shared_task

from backend.exports import service
from config.settings import Base

# Sized for 1M rows, and under CELERY_VISIBILITY_TIMEOUT (config/settings.py refuses otherwise), so the broker never
# redelivers an export that is still running. A redelivery after a crash finds the job no longer queued.


@shared_task(
    name="exports.run",
    soft_time_limit=Base.EXPORT_TASK_SOFT_TIME_LIMIT,
    time_limit=Base.EXPORT_TASK_TIME_LIMIT,
)
def run_export(job_id):
    """Build export job `job_id` (idempotent: only a queued job runs)."""
    service.run(job_id)


@shared_task(name="exports.purge_expired")
def purge_expired():
    """Delete export files past their link lifetime; fail jobs stuck beyond the hard limit."""
    service.purge_expired()
