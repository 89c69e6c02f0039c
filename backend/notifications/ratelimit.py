"""The WeChat send rate cap (NOTIFY_SEND_RATE sends per second), shared by every worker.

With REDIS_URL: a counter per wall-clock second in Redis (INCR + EXPIRE), so all workers together stay under the cap.
Without it (the embedded single process), the same fixed window in memory. If Redis fails, this process falls back
to its own window: sends slow down or go on, never stop.
"""

import logging
import threading
import time

from flask import current_app

logger = logging.getLogger(__name__)
KEY = "veterans:notify:rate:"
_lock = threading.Lock()
_window = {"second": 0, "count": 0}
_redis = {}


def _redis_client(url):
    if url not in _redis:
        import redis

        _redis[url] = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
    return _redis[url]


def _take_redis(url, second, count=1):
    client = _redis_client(url)
    pipe = client.pipeline()
    pipe.incr(KEY + str(second), count)
    pipe.expire(KEY + str(second), 3)
    return pipe.execute()[0]


def _take_memory(second, count=1):
    with _lock:
        if _window["second"] != second:
            _window["second"], _window["count"] = second, 0
        _window["count"] += count
        return _window["count"]


def acquire(rate=None, *, count=1, clock=time.time, sleep=time.sleep):
    """Block until `count` more sends fit (taken in pieces of at most one second's worth). Returns the seconds waited.

    The batch pipeline takes a claim group's sends at once (issue 21: one Redis round trip per group, not per send);
    the group is sent within a few seconds, so the cap holds on average and a burst spans at most that long."""
    rate = rate or current_app.config.get("NOTIFY_SEND_RATE", 50)
    waited = 0.0
    while count > 0:
        piece = min(count, rate)
        waited += _acquire(rate, piece, clock, sleep)
        count -= piece
    return waited


def _acquire(rate, count, clock, sleep):
    url = current_app.config.get("REDIS_URL")
    waited = 0.0
    while True:
        now = clock()
        second = int(now)
        taken = None
        if url:
            try:
                taken = _take_redis(url, second, count)
            except Exception as error:  # noqa: BLE001 - the cap degrades to this process, sending goes on
                logger.warning("send rate counter unavailable (%s); using this process's", type(error).__name__)
        if taken is None:
            taken = _take_memory(second, count)
        if taken <= rate:
            return waited
        pause = max(second + 1 - now, 0.001)
        sleep(pause)
        waited += pause
