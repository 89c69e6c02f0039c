"""Background jobs of the registry.

An import never runs in the request that uploaded it: with a broker it is a Celery task on the imports queue; in the
embedded default (no broker, where Celery would run it eagerly inside the request) it runs in a background thread of
this process with an app context of its own, so the page returns at once and polls the job's progress.
"""

import logging
import threading

from celery import shared_task
from flask import current_app

from backend import tasks as task_queue
from backend.extensions import db
from backend.veterans import import_files, importer

logger = logging.getLogger(__name__)


@shared_task(name="veterans.import_sheet")
def import_sheet(job_id):
    """Run one Excel import job (idempotent: a finished job is left alone)."""
    importer.run_import(job_id)


@shared_task(name="veterans.purge_import_files")
def purge_import_files():
    """Delete the rejected-rows files of import jobs that ended more than 24 hours ago."""
    import_files.purge_rejected_rows()


def broker_configured(app):
    return bool(app.config.get("CELERY_BROKER_URL"))


def start_job(job_id):
    """Start import job `job_id` off the request thread (called after the job's row is committed).

    :returns: the Thread in the embedded setup (tests join it), else None.
    """
    from config.settings import QueueNames

    app = current_app._get_current_object()
    if broker_configured(app):
        task_queue.enqueue(import_sheet, job_id, queue=QueueNames.IMPORTS)
        return None
    thread = threading.Thread(target=run_in_thread, args=(app, job_id), name=f"veterans-import-{job_id}", daemon=True)
    thread.start()
    return thread


def run_in_thread(app, job_id):
    """The embedded runner: the job in an app context (and so a database session) of its own."""
    with app.app_context():
        try:
            importer.run_import(job_id)
        except Exception as error:  # noqa: BLE001 - run_import ends the job itself; never let a thread die loudly
            logger.error("import job %s thread failed: %s", job_id, type(error).__name__)
        finally:
            db.session.remove()
