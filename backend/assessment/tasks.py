"""Background jobs of the assessment figures: the nightly aggregation (beat) and the on-demand recomputation.

In the embedded default (no broker, where Celery would run eagerly inside the request) an on-demand run goes to a
background thread of this process with an app context of its own, like the registry's imports.

One on-demand run per year at a time: a lock in Redis (SET NX with an expiry) when REDIS_URL is set, else in this
process (the embedded mode is one process). The run releases it; a stuck run's lock expires after
ASSESSMENT_RECOMPUTE_LOCK_SECONDS."""

import logging
import threading
import time

from celery import shared_task
from flask import current_app

from backend import tasks as task_queue
from backend.errors import RuleViolation
from backend.extensions import db

logger = logging.getLogger(__name__)
_LOCAL = {}  # year -> monotonic expiry (no Redis)
_GUARD = threading.Lock()
_REDIS = {}


class RecomputeRunning(RuleViolation):
    message = "该年度的考核指标正在重新计算，请稍后再试"


def setting(name):
    """An assessment setting: the app's config when set there, else config/assessment.py (env)."""
    from config.assessment import AssessmentSettings

    return current_app.config.get(name, getattr(AssessmentSettings, name))


def _redis():
    url = current_app.config.get("REDIS_URL")
    if not url:
        return None
    if url not in _REDIS:
        import redis

        _REDIS[url] = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
    return _REDIS[url]


def _key(year):
    return f"veterans:assessment:recompute:{int(year)}"


def acquire(year):
    """True when this caller now holds the year's lock (False: a run is going on)."""
    ttl = setting("ASSESSMENT_RECOMPUTE_LOCK_SECONDS")
    client = _redis()
    if client is not None:
        return bool(client.set(_key(year), 1, nx=True, ex=max(1, int(ttl))))
    with _GUARD:
        now = time.monotonic()
        if _LOCAL.get(year, 0) > now:
            return False
        _LOCAL[year] = now + ttl
        return True


def release(year):
    client = _redis()
    if client is not None:
        client.delete(_key(year))
        return
    with _GUARD:
        _LOCAL.pop(year, None)


@shared_task(name="assessment.aggregate")
def aggregate(year=None, locked=False):
    """Recompute one year; without one, the scheduled run (once a CST day: aggregate.nightly). Idempotent. `locked`:
    an on-demand run holding the year's lock, released at the end."""
    from backend.assessment import aggregate as job

    if not year:
        return job.nightly(force=False)
    try:
        return job.aggregate(year)
    finally:
        if locked:
            release(year)


def start_recompute(year, *, locked=False):
    """Start recomputing `year` off the request thread (`locked`: the caller holds the year's lock already).
    :returns: the Thread in the embedded setup, else None :raises RecomputeRunning: a run of that year is going on"""
    if not locked and not acquire(year):
        raise RecomputeRunning(details={"year": RecomputeRunning.message})
    app = current_app._get_current_object()
    try:
        if app.config.get("CELERY_BROKER_URL"):
            task_queue.enqueue(aggregate, year, True)
            return None
        thread = threading.Thread(target=run_in_thread, args=(app, year), name=f"assessment-{year}", daemon=True)
        thread.start()
        return thread
    except BaseException:
        release(year)
        raise


def run_in_thread(app, year):
    from backend.assessment import aggregate as job

    with app.app_context():
        try:
            job.aggregate(year)
        except Exception as error:  # noqa: BLE001 - the nightly run tries again; never let a thread die loudly
            logger.error("assessment recompute %s failed: %s", year, type(error).__name__)
        finally:
            release(year)
            db.session.remove()
