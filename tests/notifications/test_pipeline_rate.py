"""The send rate cap: NOTIFY_SEND_RATE sends per wall-clock second, shared through Redis by every worker."""

import pytest

from backend.notifications import ratelimit


class Clock:
    def __init__(self):
        self.now, self.slept = 1000.0, []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.slept.append(round(seconds, 3))
        self.now += seconds


def _burst(n, rate, clock):
    return [ratelimit.acquire(rate, clock=clock, sleep=clock.sleep) for _ in range(n)]


def test_memory_cap_waits_for_the_next_second(app, monkeypatch):
    monkeypatch.setitem(app.config, "REDIS_URL", None)
    clock = Clock()
    clock.now += 0.25
    waits = _burst(7, 3, clock)
    assert waits[:3] == [0, 0, 0] and waits[3] == pytest.approx(0.75)
    assert int(clock.now) == 1002  # 7 sends at 3 per second: the third second


@pytest.mark.redis
def test_redis_cap_is_shared_by_every_process(app, monkeypatch, redis_url):
    monkeypatch.setitem(app.config, "REDIS_URL", redis_url)
    clock = Clock()
    clock.now = 5000.5
    ratelimit._redis_client(redis_url).delete(ratelimit.KEY + "5000")
    assert _burst(2, 3, clock) == [0, 0]
    ratelimit._window.update(second=0, count=0)  # another worker: its own memory, the same Redis counter
    assert _burst(2, 3, clock)[1] == pytest.approx(0.5)


def test_redis_failure_falls_back_to_this_process(app, monkeypatch):
    monkeypatch.setitem(app.config, "REDIS_URL", "redis://127.0.0.1:1/0")
    monkeypatch.setattr(ratelimit, "_take_redis", lambda url, second, count=1: (_ for _ in ()).throw(OSError("down")))
    clock = Clock()
    assert _burst(2, 5, clock) == [0, 0]
