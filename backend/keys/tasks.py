"""Celery entry point of key rotation (default queue): works for PII_ROTATION_TASK_SECONDS, then enqueues itself
again until every column is done, so no run outlives the task time limits."""

from celery import shared_task
from flask import current_app

from backend import tasks as task_queue
from backend.keys import rotation


@shared_task(name="pii.rotate_keys")
def rotate_keys():
    result = rotation.run(seconds=current_app.config.get("PII_ROTATION_TASK_SECONDS", 240))
    if not result.finished:
        task_queue.enqueue(rotate_keys)
    return {"rows": result.rows, "finished": result.finished}
