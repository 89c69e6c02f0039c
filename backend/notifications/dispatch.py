"""Starting a notification's delivery after its rows are committed.

With a broker: the `notifications.deliver` task on the notify queue. In the embedded default (no broker, where Celery
would run the task inside the request) a background thread of this process runs it, so the page or the phone answers
at once. A failed enqueue is logged and left to the watchdog (the rows stay queued), never turned into a failed
request: the event that caused the message is already committed.

Tests patch `kick` (tests/conftest.py records the ids) and run the delivery functions directly.
"""

import logging
import threading

from flask import current_app

from backend.db import after_commit

logger = logging.getLogger(__name__)


def start_after_commit(notification_id):
    """Queue the delivery of `notification_id` to start once the current transaction commits."""
    after_commit(kick, notification_id)


def kick(notification_id):
    from backend.notifications import tasks

    app = current_app._get_current_object()
    if app.config.get("CELERY_BROKER_URL"):
        try:
            tasks.enqueue_deliver(notification_id)
        except Exception as error:  # noqa: BLE001 - the watchdog requeues; the caller's work is committed
            logger.error(
                "notification %s not enqueued (%s); the watchdog will pick it up", notification_id, type(error).__name__
            )
        return None
    thread = threading.Thread(
        target=_run_in_thread, args=(app, notification_id), name=f"notify-{notification_id}", daemon=True
    )
    thread.start()
    return thread


def _run_in_thread(app, notification_id):
    from backend.extensions import db
    from backend.notifications import delivery

    with app.app_context():
        try:
            delivery.run_inline(notification_id)
        except Exception as error:  # noqa: BLE001 - the watchdog requeues what is left
            logger.error("notification %s thread failed: %s", notification_id, type(error).__name__)
        finally:
            db.session.remove()
