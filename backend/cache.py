"""A tiny shared cache: Redis when REDIS_URL is set, else a dict in this process (the embedded single-process mode).

Values are JSON. Used for small, short-lived facts that are cheap to rebuild from the database (the phone token
check's account state, backend/accounts/principal.py); never for personal data. Keys carry PREFIX.
"""

import json
import threading
import time

from flask import current_app

PREFIX = "veterans:cache:"


class MemoryBackend:
    """Per-process fallback with the same semantics (expiry on read)."""

    def __init__(self):
        self._data = {}
        self._lock = threading.Lock()

    def get_many(self, keys):
        now = time.monotonic()
        with self._lock:
            out = []
            for key in keys:
                item = self._data.get(key)
                if item is not None and item[1] <= now:
                    del self._data[key]
                    item = None
                out.append(None if item is None else item[0])
            return out

    def set(self, key, value, ttl):
        with self._lock:
            self._data[key] = (value, time.monotonic() + ttl)

    def delete(self, *keys):
        with self._lock:
            for key in keys:
                self._data.pop(key, None)

    def clear(self):
        with self._lock:
            self._data.clear()

    def publish(self, channel, message):
        """One process: nobody else to tell (backend/nearcache.py is not used without Redis)."""


class RedisBackend:
    def __init__(self, url):
        import redis

        self._redis = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)

    def get_many(self, keys):
        return self._redis.mget(keys)

    def set(self, key, value, ttl):
        self._redis.set(key, value, ex=max(1, int(ttl)))

    def delete(self, *keys):
        if keys:
            self._redis.delete(*keys)

    def publish(self, channel, message):
        self._redis.publish(channel, message)

    def clear(self):
        keys = list(self._redis.scan_iter(match=f"{PREFIX}*", count=500))
        if keys:
            self._redis.delete(*keys)


# One per process, shared by every app in it: wsgi.py serves the portal and the API from one process, and a change
# made through one (the portal unbinding a veteran) must be seen by the other.
_memory = MemoryBackend()


def _backend():
    """This app's backend: Redis, built on first use and rebuilt when REDIS_URL changes (tests switch it); else the
    process-wide dict."""
    url = current_app.config.get("REDIS_URL")
    if not url:
        return _memory
    current = current_app.extensions.get("cache")
    if current is None or current[0] != url:
        current = (url, RedisBackend(url))
        current_app.extensions["cache"] = current
    return current[1]


def get_many(*keys):
    """The JSON values of `keys` (None where missing or expired), in one round trip."""
    raw = _backend().get_many([PREFIX + key for key in keys])
    return [None if value is None else json.loads(value) for value in raw]


def set(key, value, ttl):  # noqa: A001 (the cache's verb)
    _backend().set(PREFIX + key, json.dumps(value, separators=(",", ":")), ttl)


def delete(*keys):
    _backend().delete(*(PREFIX + key for key in keys))


def publish(channel, message):
    """Publish `message` to the other processes sharing this cache (backend/nearcache.py)."""
    _backend().publish(channel, message)


def clear():
    """Drop every cached value of this app, near caches included (tests)."""
    from backend import nearcache

    _backend().clear()
    nearcache.clear_all()
