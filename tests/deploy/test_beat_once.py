"""Beat exactly once (issue 21): with a broker, beat runs RedBeat, whose Redis lock makes a second beat wait; it sends
nothing until the first one stops, then takes over. Without a broker (the embedded mode) no beat is configured."""

import threading
import time
import uuid

import pytest
from celery import Celery
from celery.beat import Service
from kombu.utils.imports import symbol_by_name

from config.jobs import JobSettings, beat_conf

pytestmark = pytest.mark.no_db

PING = "deploy-test-ping"


def _settings(**overrides):
    return {**{name: getattr(JobSettings, name) for name in dir(JobSettings) if name.isupper()}, **overrides}


def test_beat_uses_redbeat_with_a_broker_and_nothing_without_one():
    conf = beat_conf(_settings(REDIS_URL="redis://cache:6379/1"), "redis://broker:6379/0")
    assert conf["beat_scheduler"] == "redbeat.RedBeatScheduler"
    assert conf["redbeat_redis_url"] == "redis://cache:6379/1"
    assert conf["redbeat_lock_timeout"] > conf["beat_max_loop_interval"] > 0
    assert beat_conf(_settings(), None) == {}  # embedded: tasks run eagerly, `run-jobs` replaces beat
    with pytest.raises(RuntimeError, match="BEAT_LOCK_TIMEOUT"):
        beat_conf(_settings(BEAT_LOCK_TIMEOUT=5, BEAT_MAX_LOOP_INTERVAL=10), "redis://broker:6379/0")


def test_the_flask_apps_celery_is_configured_for_redbeat(app):
    conf = app.extensions["celery"].conf  # Test has an (impossible) broker, so the production shape applies
    assert conf.beat_scheduler == JobSettings.CELERY_BEAT_SCHEDULER
    assert conf.redbeat_lock_timeout == JobSettings.BEAT_LOCK_TIMEOUT
    assert conf.beat_schedule  # the real schedule is what RedBeat loads into Redis


def _celery(redis_url, prefix):
    celery_app = Celery("beat-once-test", set_as_current=False)
    celery_app.conf.update(
        broker_url=redis_url,
        beat_schedule={PING: {"task": "deploy.test_ping", "schedule": 0.2}},
        **beat_conf(_settings(REDIS_URL=redis_url, BEAT_LOCK_TIMEOUT=5, BEAT_MAX_LOOP_INTERVAL=1), redis_url),
    )
    celery_app.conf.redbeat_key_prefix = prefix  # this test's own keys in the Redis db
    return celery_app


def _beat(celery_app, name, sent):
    """A beat service whose scheduler records what it would send instead of publishing it."""
    base = symbol_by_name(celery_app.conf.beat_scheduler)

    class Recording(base):
        def apply_async(self, entry, producer=None, advance=True, **kwargs):
            sent.append((name, entry.name))

    service = Service(celery_app, scheduler_cls=Recording, remote_control=False)

    def run():
        try:
            service.start()
        except Exception as exc:  # as `celery beat` would: the process ends with this error
            service.error = exc

    service.error = None
    thread = threading.Thread(target=run, name=f"beat-{name}", daemon=True)
    thread.start()
    return service, thread


def _wait(condition, seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


@pytest.mark.redis
def test_a_second_beat_waits_while_the_first_holds_the_lock(redis_url):
    import redis

    prefix = f"veterans:beat-test:{uuid.uuid4().hex}:"
    client = redis.Redis.from_url(redis_url)
    sent = []
    first, first_thread = _beat(_celery(redis_url, prefix), "first", sent)
    second = second_thread = None
    try:
        assert _wait(lambda: ("first", PING) in sent, 5), "the first beat never sent its task"
        assert client.exists(f"{prefix}:lock")
        second, second_thread = _beat(_celery(redis_url, prefix), "second", sent)
        time.sleep(1.5)  # several of the first beat's ticks (0.2 s apart) and the second's lock retries (1 s)
        assert [who for who, _ in sent].count("first") >= 3
        assert ("second", PING) not in sent, "a second beat scheduled while the first held the lock"
        assert second.scheduler.lock is None  # still waiting in its start hook

        first.stop(wait=True)  # releases the lock
        first_thread.join(5)
        stopped_at = len(sent)
        assert _wait(lambda: ("second", PING) in sent, 5), "the waiting beat did not take over"
        assert all(who == "second" for who, _ in sent[stopped_at:])
    finally:
        first.stop()
        if second is not None:
            second.stop()
            second_thread.join(5)
        for key in client.scan_iter(f"{prefix}*"):
            client.delete(key)


@pytest.mark.redis
def test_a_beat_whose_lock_was_taken_over_stops(redis_url):
    import redis
    from redis.exceptions import LockNotOwnedError

    prefix = f"veterans:beat-test:{uuid.uuid4().hex}:"
    client = redis.Redis.from_url(redis_url)
    sent = []
    beat, thread = _beat(_celery(redis_url, prefix), "first", sent)
    try:
        assert _wait(lambda: sent, 5)
        client.set(f"{prefix}:lock", "another-beat", px=5000)  # its lock expired and another beat took it
        thread.join(5)
        assert not thread.is_alive() and isinstance(beat.error, LockNotOwnedError)
        count = len(sent)
        time.sleep(0.5)
        assert len(sent) == count
    finally:
        beat.stop()
        for key in client.scan_iter(f"{prefix}*"):
            client.delete(key)
