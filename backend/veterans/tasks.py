"""Background jobs of the registry."""

from celery import shared_task

from backend.veterans import importer


@shared_task(name="veterans.import_sheet")
def import_sheet(job_id):
    """Run one Excel import job (idempotent: a finished job is left alone)."""
    importer.run_import(job_id)
