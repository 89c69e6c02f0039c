"""Issue 21 (P8-P10): the phone user's journey for Locust, headless; bench/journeys.py drives it.

One iteration is one veteran opening the mini program after a notification: GET /me, the inbox and its unread count,
this year's registration, a draft save and the submit, the service list, a service's slots and a booking, then one
inbox message. Think times between steps (JOURNEY_THINK="min,max" seconds). Each simulated user takes the next
pre-minted access token of JOURNEY_TOKENS (one line per account, minted by bench/journeys.py as bench/targets.py
does: the real login goes through WeChat's code2session and is rate limited per client address, which a load
generator on one address would trip). Once every token was used, accounts are reused: their registration is already
submitted, so the draft save and submit answer 409 registration.not_editable, an expected refusal.

Expected refusals (409 not_editable, slot_full, duplicate, slot_unavailable) count as successes; anything else that
is not 2xx is a failure. Every request is also appended to JOURNEY_LOG ("start_time latency_ms status ok name", one
line per request; ok is 0 for a failure) so the runner computes per-second p95 and the recovery time itself.

JOURNEY_STAGES="users:seconds,users:seconds,..." is the load shape (ramping to each stage's user count at once).
JOURNEY_PACE, when set, gives each user a constant request rate (requests per second) instead of the think times:
the click-through spike's open arrival rate.
"""

import itertools
import os
import random
import threading
import time

from locust import FastHttpUser, LoadTestShape, between, constant_throughput, events, task

API = "/api/v1"
EXPECTED = {"registration.not_editable", "booking.slot_full", "booking.duplicate", "booking.slot_unavailable"}
FULL = {
    "party_life": {"participated": True, "notes": "按时参加"},
    "social_orgs": {"joined": False, "organizations": []},
    "trips_abroad": {"had_trips": False, "trips": []},
    "rewards_punishments": {"has_any": False, "details": ""},
    "employment": {"status": "employed", "employer": "青山机械厂"},
    "contact": {"phone": "13900001111", "address": "青山镇1号"},
    "declaration": {"agreed": True},
}


def _tokens():
    path = os.environ.get("JOURNEY_TOKENS")
    if not path:
        raise SystemExit("locustfile: set JOURNEY_TOKENS to the file of access tokens (bench/journeys.py writes it)")
    with open(path, encoding="utf-8") as handle:
        return [line.strip() for line in handle if line.strip()]


_ALL = _tokens()
_OFFSET = int(os.environ.get("JOURNEY_TOKEN_OFFSET", "0") or 0) % len(_ALL)  # skip the accounts earlier runs used
TOKENS = itertools.cycle(_ALL[_OFFSET:] + _ALL[:_OFFSET])
_LOG = open(os.environ["JOURNEY_LOG"], "a", buffering=1, encoding="utf-8") if os.environ.get("JOURNEY_LOG") else None  # noqa: SIM115
_LOG_LOCK = threading.Lock()
THINK = tuple(float(x) for x in os.environ.get("JOURNEY_THINK", "1,3").split(","))
PACE = float(os.environ.get("JOURNEY_PACE", "0") or 0)


@events.request.add_listener
def _log_request(request_type, name, response_time, response, exception, start_time=None, **kwargs):
    if _LOG is None:
        return
    status = getattr(response, "status_code", 0) or 0
    if exception is not None and not status:
        status = 0  # connection error or timeout
    with _LOG_LOCK:
        started = start_time or time.time() - response_time / 1000
        _LOG.write(f"{started:.3f} {response_time:.1f} {status} {0 if exception else 1} {name}\n")


class Veteran(FastHttpUser):
    """One phone user; the journey is one task so its steps run in order."""

    wait_time = constant_throughput(PACE) if PACE else between(*THINK)
    network_timeout = 60.0
    connection_timeout = 60.0

    def on_start(self):
        self.headers = {"Authorization": f"Bearer {next(TOKENS)}"}

    def _think(self):
        if not PACE:
            time.sleep(random.uniform(*THINK) / 3)  # noqa: S311 (shorter pauses between screens of one visit)

    def _call(self, method, path, name=None, json=None):
        """One request; 2xx and the expected refusals succeed, anything else fails. Returns the JSON or None."""
        with self.client.request(
            method, API + path, name=name or path, headers=self.headers, json=json, catch_response=True
        ) as response:
            body = None
            try:
                body = response.json()
            except Exception:  # noqa: BLE001 (an HTML or empty answer is judged by its status below)
                body = None
            code = ((body or {}).get("error") or {}).get("code") if isinstance(body, dict) else None
            if 200 <= response.status_code < 300 or code in EXPECTED:
                response.success()
                return body if 200 <= response.status_code < 300 else None
            response.failure(f"{response.status_code} {code}")
            return None

    @task
    def journey(self):
        self.headers = {"Authorization": f"Bearer {next(TOKENS)}"}  # the next veteran opens the mini program
        self._call("GET", "/me")
        inbox = self._call("GET", "/inbox") or {}
        self._call("GET", "/inbox/unread-count")
        self._think()
        current = self._call("GET", "/registrations/current") or {}
        self._think()
        if current.get("editable", True):
            self._call("PUT", "/registrations/current", json={"content": FULL})
            self._call("POST", "/registrations/current/submit")
        else:  # already submitted: the phone shows the read-only form; the write would be refused the same way
            self._call("PUT", "/registrations/current", json={"content": FULL})
        self._think()
        services = (self._call("GET", "/services") or {}).get("items") or []
        if services:
            service = random.choice(services)  # noqa: S311
            slots = self._call("GET", f"/services/{service['id']}/slots", name="/services/[id]/slots") or {}
            free = [slot for slot in slots.get("items") or [] if slot.get("free")]
            if free:
                self._think()
                self._call("POST", "/bookings", json={"slot_id": random.choice(free)["id"]})  # noqa: S311
        items = inbox.get("items") or []
        if items:
            self._call("GET", f"/inbox/{items[0]['id']}", name="/inbox/[id]")


def _stages():
    text = os.environ.get("JOURNEY_STAGES", "")
    return [tuple(int(x) for x in part.split(":")) for part in text.split(",") if part.strip()]


STAGES = _stages()
if STAGES:

    class Stages(LoadTestShape):
        """JOURNEY_STAGES: each (users, seconds) in turn, spawning at once (spawn rate = users per second)."""

        def tick(self):
            elapsed, end = self.get_run_time(), 0
            for users, seconds in STAGES:
                end += seconds
                if elapsed < end:
                    return users, max(users, 1)
            return None
