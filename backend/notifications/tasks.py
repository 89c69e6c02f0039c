"""Background jobs of notifications, all on the notify queue: thin tasks that take ids (style.md, Notify's
deliver_sms). acks_late and reject_on_worker_lost are global (backend/extensions.py): a task whose worker dies is
delivered again, and the claim in backend/notifications/delivery.py makes that harmless.
"""

from celery import shared_task

from backend import tasks as task_queue
from backend.notifications import delivery
from backend.notifications import watchdog as keeper
from config.settings import Base, QueueNames

# Explicit limits under CELERY_VISIBILITY_TIMEOUT (tests/test_celery_config.py checks the order), so the broker never
# redelivers a batch that is still running. The queue is given at enqueue time (below) and in the beat schedule
# entries (config/settings.py), Celery's task `queue` attribute being deprecated.
OPTIONS = {
    "soft_time_limit": Base.NOTIFY_TASK_SOFT_TIME_LIMIT,
    "time_limit": Base.NOTIFY_TASK_TIME_LIMIT,
}


@shared_task(name="notifications.deliver", **OPTIONS)
def deliver(notification_id):
    """Fan out notification `notification_id`: materialize its recipients, then one batch task per id range."""
    return delivery.fan_out(notification_id)


@shared_task(name="notifications.deliver_batch", **OPTIONS)
def deliver_batch(notification_id, first_id, last_id):
    """Send the queued deliveries of one id range (idempotent: only queued rows are claimed)."""
    return delivery.deliver_batch(notification_id, first_id, last_id)


@shared_task(name="notifications.watchdog", **OPTIONS)
def watchdog():
    """Requeue stuck deliveries, release in-doubt sends, restart lost fan-outs."""
    return keeper.watchdog()


@shared_task(name="notifications.start_due", **OPTIONS)
def start_due():
    """Start scheduled notifications whose time has come."""
    return keeper.start_due()


@shared_task(name="notifications.build_call_list", **OPTIONS)
def build_call_list():
    """The stations' call lists (backend/notifications/calls.py, when present)."""
    try:
        from backend.notifications import calls
    except ImportError:
        return None
    build = getattr(calls, "build", None)
    return build() if build else None


def enqueue_deliver(notification_id):
    task_queue.enqueue(deliver, notification_id, queue=QueueNames.NOTIFY)


def enqueue_batch(notification_id, first_id, last_id):
    task_queue.enqueue(deliver_batch, notification_id, first_id, last_id, queue=QueueNames.NOTIFY)
