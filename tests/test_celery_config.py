"""S35: for every queue and every task, the broker's visibility timeout > the hard time limit > the soft one, so a
running task is never handed to a second worker, and a task is told to stop before it is killed."""

import pytest

from config.settings import QueueNames

pytestmark = pytest.mark.no_db


def _limits(celery_app, task):
    conf = celery_app.conf
    soft = task.soft_time_limit or conf.task_soft_time_limit
    hard = task.time_limit or conf.task_time_limit
    return soft, hard


def _ours(celery_app):
    celery_app.loader.import_default_modules()  # CELERY_TASK_MODULES, as a worker loads them
    return {name: task for name, task in celery_app.tasks.items() if not name.startswith("celery.")}


def test_every_task_stops_before_the_broker_redelivers_it(app):
    celery_app = app.extensions["celery"]
    visibility = celery_app.conf.broker_transport_options["visibility_timeout"]
    tasks = _ours(celery_app)
    assert tasks, "no tasks registered"
    wrong = {}
    for name, task in tasks.items():
        soft, hard = _limits(celery_app, task)
        if not (soft and hard and visibility > hard > soft):
            wrong[name] = (visibility, hard, soft)
    assert wrong == {}


def test_notify_tasks_go_to_the_notify_queue(app, monkeypatch):
    from backend import tasks as task_queue
    from backend.notifications import tasks

    celery_app = app.extensions["celery"]
    names = {name for name in _ours(celery_app) if name.startswith("notifications.")}
    assert names == {
        "notifications.deliver",
        "notifications.deliver_batch",
        "notifications.watchdog",
        "notifications.start_due",
        "notifications.build_call_list",
    }
    beat = {entry["task"]: entry for entry in celery_app.conf.beat_schedule.values()}
    assert all(beat[name]["options"]["queue"] == QueueNames.NOTIFY for name in names if name in beat)
    sent = []
    monkeypatch.setattr(task_queue, "enqueue", lambda task, *args, queue=None: sent.append((task.name, args, queue)))
    tasks.enqueue_deliver(7)
    tasks.enqueue_batch(7, 1, 500)
    assert sent == [
        ("notifications.deliver", (7,), QueueNames.NOTIFY),
        ("notifications.deliver_batch", (7, 1, 500), QueueNames.NOTIFY),
    ]
    conf = celery_app.conf
    assert conf.task_acks_late and conf.task_reject_on_worker_lost and conf.worker_prefetch_multiplier == 1
