"""A process-local layer over the shared Redis cache for tiny, hot values (the phone token check's Principal,
backend/accounts/principal.py), so a warm request costs no network round trip.

Coherence: every forget is applied at once to every near cache of this process and published on a Redis channel;
each process runs one listener thread that drops what other processes forget (milliseconds). The near cache serves
only while its listener is subscribed: before the subscription, after a lost connection (until it resubscribes) and
after a fork (gunicorn workers) it is empty and bypassed, so a missed message cannot leave a stale value. Values
also expire after PRINCIPAL_LOCAL_SECONDS (5 s), the bound if a publish itself fails. A value read from Redis or the
database is kept only if no forget arrived since the read began (the epoch check), so a forget that overtakes a slow
read is not undone.
"""

import json
import logging
import os
import threading
import time
import uuid
import weakref

from flask import current_app

log = logging.getLogger(__name__)

CHANNEL = "veterans:cache:forget"
_ORIGIN = uuid.uuid4().hex  # with the pid: this process's own forgets come back on the channel and are skipped
_instances = weakref.WeakSet()  # every near cache of this process


class NearCache:
    def __init__(self, url, ttl):
        self._url, self._ttl = url, ttl
        self._data = {}
        self._lock = threading.Lock()
        self._epoch = 0
        self._healthy = False
        self._pid = None
        self._stopped = False
        _instances.add(self)

    # --- reads and writes (request threads)

    def _ensure_listener(self):
        if self._pid == os.getpid():
            return
        with self._lock:
            if self._pid == os.getpid():
                return
            self._pid, self._healthy, self._epoch = os.getpid(), False, self._epoch + 1
            self._data.clear()
        threading.Thread(target=self._listen, name="nearcache-listener", daemon=True).start()

    def epoch(self):
        self._ensure_listener()
        return self._epoch

    def get(self, key):
        self._ensure_listener()
        if not self._healthy:
            return None
        item = self._data.get(key)
        if item is None or item[1] <= time.monotonic():
            return None
        return item[0]

    def put(self, key, value, epoch):
        """Keep `value` unless a forget (or a lost subscription) happened since `epoch` was read."""
        with self._lock:
            if self._healthy and self._epoch == epoch:
                self._data[key] = (value, time.monotonic() + self._ttl)

    def drop(self, keys):
        with self._lock:
            self._epoch += 1
            for key in keys:
                self._data.pop(key, None)

    def clear(self):
        with self._lock:
            self._epoch += 1
            self._data.clear()

    # --- the listener (one daemon thread per near cache and process)

    def _listen(self):
        import redis

        pid = os.getpid()
        while not self._stopped and self._pid == pid:
            try:
                client = redis.Redis.from_url(self._url, socket_connect_timeout=2, health_check_interval=30)
                pubsub = client.pubsub()
                pubsub.subscribe(CHANNEL)
                for message in pubsub.listen():
                    if self._pid != pid:
                        return
                    if message["type"] == "subscribe":
                        with self._lock:
                            self._epoch += 1
                            self._data.clear()  # anything kept before this subscription may have missed a forget
                            self._healthy = True
                    elif message["type"] == "message":
                        forgotten = json.loads(message["data"])
                        if forgotten.get("origin") != f"{_ORIGIN}-{pid}":  # ours were dropped synchronously
                            self.drop(forgotten["keys"])
            except Exception:  # noqa: BLE001 (a listener never dies: it goes unhealthy and reconnects)
                log.warning("near cache listener lost its subscription; bypassing the near cache until it is back")
            with self._lock:
                self._healthy = False
                self._epoch += 1
                self._data.clear()
            time.sleep(1)


def for_app():
    """This app's near cache, or None without REDIS_URL (the embedded single process has only the in-process dict)."""
    url = current_app.config.get("REDIS_URL")
    ttl = current_app.config.get("PRINCIPAL_LOCAL_SECONDS", 5)
    if not url or ttl <= 0:
        return None
    current = current_app.extensions.get("nearcache")
    if current is None or current[0] != url:
        current = (url, NearCache(url, ttl))
        current_app.extensions["nearcache"] = current
    return current[1]


def forget(keys):
    """Drop `keys` from every near cache of this process now, and publish them for the other processes (through the
    shared cache's Redis; nothing to publish in the embedded single process)."""
    from backend import cache

    keys = list(keys)
    for instance in list(_instances):
        instance.drop(keys)
    cache.publish(CHANNEL, json.dumps({"origin": f"{_ORIGIN}-{os.getpid()}", "keys": keys}))


def clear_all():
    for instance in list(_instances):
        instance.clear()
