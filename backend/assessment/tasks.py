"""Background jobs of the assessment figures: the nightly aggregation (beat) and the on-demand recomputation.

In the embedded default (no broker, where Celery would run eagerly inside the request) an on-demand run goes to a
background thread of this process with an app context of its own, like the registry's imports."""

import logging
import threading

from celery import shared_task
from flask import current_app

from backend import tasks as task_queue
from backend.extensions import db

logger = logging.getLogger(__name__)


@shared_task(name="assessment.aggregate")
def aggregate(year=None):
    """Recompute one year; without one, the scheduled run (once a CST day: aggregate.nightly). Idempotent."""
    from backend.assessment import aggregate as job

    return job.aggregate(year) if year else job.nightly(force=False)


def start_recompute(year):
    """Start recomputing `year` off the request thread. :returns: the Thread in the embedded setup, else None."""
    app = current_app._get_current_object()
    if app.config.get("CELERY_BROKER_URL"):
        task_queue.enqueue(aggregate, year)
        return None
    thread = threading.Thread(target=run_in_thread, args=(app, year), name=f"assessment-{year}", daemon=True)
    thread.start()
    return thread


def run_in_thread(app, year):
    from backend.assessment import aggregate as job

    with app.app_context():
        try:
            job.aggregate(year)
        except Exception as error:  # noqa: BLE001 - the nightly run tries again; never let a thread die loudly
            logger.error("assessment recompute %s failed: %s", year, type(error).__name__)
        finally:
            db.session.remove()
