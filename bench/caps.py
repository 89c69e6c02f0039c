"""Capability targets of issue 21 for bench/run.py: `GET /services/{id}/slots` and `POST /bookings` against `B_db1`.

Goals (quality.md part 2): P3, a mini program read, >= 0.5 x B_db1 req/s with p99 <= 3 x B_db1's p99; the booking,
a write (insert, conditional slot update, audit row, idempotency row, commit), is held to P4's >= 0.3 x B_db1.

The booking load needs capacity: bench/seed_caps.py's services and slots must be in the database. Before the
measurement the bench picks a pool of bound accounts of active veterans (one booking service of their station each,
no active booking of it, not blocked) and gives each a different future slot of that service with a free place
(starting after tomorrow, inside the booking window). wrk's script sends every request as the next (token, slot) of
the pool, thread by thread without overlap, with a fresh Idempotency-Key. After every wrk run (warm-up and each round)
the bench cancels the bookings its pool made (status "cancelled", cancelled_by "veteran", reason "bench", the place
returned to the slot), so the next run books the same free places again and never measures 409s. Non-2xx answers
(and a pool too small for a run: duplicates) count as errors and are printed.
"""

import json
import os
import subprocess
import tempfile
import time
from dataclasses import dataclass, field

from bench import load
from bench.targets import Sample

SLOTS = "GET /services/{id}/slots"
BOOK = "POST /bookings"
# (numerator, denominator, goal, kind) as bench/targets.RATIOS
RATIOS = [(SLOTS, "B_db1", 0.5, "rps"), (BOOK, "B_db1", 0.3, "rps")]
P99_GOAL = 3.0  # P3: the read's p99 <= 3 x B_db1's p99

BOOK_LUA = """
local n = 0
local prefix = nil
local pairs = {%s}
local threads = %d
local counter = 0
setup = function(thread)
  thread:set("tid", counter)
  counter = counter + 1
end
request = function()
  if prefix == nil then prefix = "bench-" .. run_id .. "-" .. tostring(tid) end
  local k = (tid + n * threads) %% #pairs + 1
  n = n + 1
  local headers = {}
  headers["Authorization"] = "Bearer " .. pairs[k][1]
  headers["Content-Type"] = "application/json"
  headers["User-Agent"] = "veterans-bench"
  headers["Idempotency-Key"] = prefix .. "-" .. n
  return wrk.format("POST", "/api/v1/bookings", headers, string.format('{"slot_id": %%d}', pairs[k][2]))
end
"""

CANDIDATES = """
SELECT DISTINCT ON (v.id) w.id AS account_id, v.id AS veteran_id, s.id AS service_id
FROM wechat_account w
JOIN veteran v ON v.id = w.veteran_id AND v.status = 'active'
JOIN booking_service s ON s.station_id = v.station_id AND s.active
WHERE NOT EXISTS (SELECT 1 FROM booking b WHERE b.veteran_id = v.id AND b.service_id = s.id
                  AND b.status IN ('booked', 'checked_in'))
  AND NOT EXISTS (SELECT 1 FROM booking_block k WHERE k.veteran_id = v.id AND k.lifted_at IS NULL
                  AND k.blocked_until > now())
ORDER BY v.id, s.id
LIMIT :limit
"""

FREE_SLOTS = """
SELECT sl.id, sl.service_id, sl.capacity - sl.booked AS free
FROM slot sl JOIN booking_service s ON s.id = sl.service_id
WHERE sl.service_id = ANY(:services) AND sl.status = 'open' AND sl.booked < sl.capacity
  AND sl.starts_at > now() + interval '2 days'
  AND (sl.starts_at AT TIME ZONE 'Asia/Shanghai')::date <= :today + s.book_ahead_days
ORDER BY sl.service_id, sl.starts_at, sl.id
"""

CANCEL = """
WITH done AS (
  UPDATE booking SET status = 'cancelled', cancelled_by = 'veteran', cancelled_at = now(), cancel_reason = 'bench',
         updated_at = now(), version_id = version_id + 1
  WHERE veteran_id = ANY(:veterans) AND status = 'booked' AND created_at >= :since
  RETURNING slot_id
), released AS (
  UPDATE slot SET booked = slot.booked - c.n
  FROM (SELECT slot_id, count(*) AS n FROM done GROUP BY slot_id) c WHERE slot.id = c.slot_id
  RETURNING 1
)
SELECT (SELECT count(*) FROM done) + 0 * (SELECT count(*) FROM released)
"""


@dataclass(frozen=True)
class CapsTarget:
    """A target with its own headers (auth "own"); `lua` is set for the POST target, which wrk drives by script."""

    name: str
    path: str
    headers: dict = field(default_factory=dict, hash=False)
    lua: str | None = None
    auth: str = "own"


@dataclass
class Pool:
    pairs: list  # [(access token, slot id)]
    veterans: list
    since: object  # bookings made after this moment by `veterans` are the bench's
    database_url: str
    cancelled: int = 0


def prepare(api_app, database_url, size, threads=2, out=print):
    """([CapsTarget], Pool) or ([], None) with a reason printed when the database has no bookable service."""
    from datetime import UTC, datetime

    from sqlalchemy import text

    from backend.accounts.models import WechatAccount
    from backend.extensions import db
    from backend.registration.windows import today_cst
    from miniprogram_api.security import issue_tokens

    with api_app.app_context():
        since = datetime.now(UTC)
        rows = db.session.execute(text(CANDIDATES), {"limit": size}).all()
        services = sorted({r.service_id for r in rows})
        free = {}
        for slot in db.session.execute(text(FREE_SLOTS), {"services": services, "today": today_cst()}).all():
            free.setdefault(slot.service_id, []).append([slot.id, slot.free])
        chosen = []
        for row in rows:  # a different free place for every pool member
            places = free.get(row.service_id)
            if places:
                chosen.append((row, places[0][0]))
                places[0][1] -= 1
                if places[0][1] == 0:
                    places.pop(0)
        if not chosen:
            out("  caps: no bookable service with free future slots (seed bench/seed_caps.py); not measured")
            db.session.remove()
            return [], None
        accounts = {
            a.id: a
            for a in db.session.query(WechatAccount).filter(WechatAccount.id.in_([r.account_id for r, _ in chosen]))
        }
        pairs = [(issue_tokens(accounts[r.account_id])["access_token"], slot) for r, slot in chosen]
        db.session.commit()
        db.session.remove()
    first_token, first_service = pairs[0][0], chosen[0][0].service_id
    auth = {"Authorization": f"Bearer {first_token}"}
    out(f"  caps: booking pool of {len(pairs)} veterans (asked {size}) over {len(services)} services")
    lua = BOOK_LUA % (", ".join(f"{{{json.dumps(t)}, {s}}}" for t, s in pairs), threads)
    return [
        CapsTarget(SLOTS, f"/api/v1/services/{first_service}/slots", auth),
        CapsTarget(BOOK, "/api/v1/bookings", lua=lua),
    ], Pool(pairs, [r.veteran_id for r, _ in chosen], since, database_url)


def measure(base, target, *, duration, connections, threads=2):
    """One wrk run of a scripted target (a Sample)."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        # a fresh Idempotency-Key in every run: wrk's math.random repeats its sequence run after run, and a repeated
        # key would replay the stored answer instead of booking
        script.write(f'run_id = "{time.time_ns()}"\n' + target.lua + load.LUA)
    try:
        args = [load.WRK, f"-t{threads}", f"-c{max(connections, threads)}", f"-d{duration}s", "--timeout", "60s"]
        output = subprocess.run(
            args + ["--latency", "-s", script.name, base], capture_output=True, text=True, timeout=duration + 60
        ).stdout
    finally:
        os.unlink(script.name)
    line = next((x for x in output.splitlines() if x.startswith("BENCH ")), None)
    if line is None:
        raise SystemExit(f"bench: wrk gave no summary for {target.name}:\n{output}")
    requests, micros, status_errors, socket_errors, p50, p95, p99 = (float(x) for x in line.split()[1:])
    return Sample(
        requests / (micros / 1e6), p50 / 1000, p95 / 1000, p99 / 1000, int(requests), int(status_errors + socket_errors)
    )


def reset(pool):
    """Cancel the bookings the pool made since the bench began; their places return to the slots."""
    from sqlalchemy import create_engine, text

    engine = create_engine(pool.database_url)
    try:
        with engine.begin() as conn:
            pool.cancelled += conn.execute(text(CANCEL), {"veterans": pool.veterans, "since": pool.since}).scalar()
    finally:
        engine.dispose()


def report(results, out=print):
    """The p99 line of P3 (the ratios print through bench/targets.report) and the booking pool's use."""
    if SLOTS in results.samples and "B_db1" in results.samples:
        value = results.median(SLOTS, "p99") / max(results.median("B_db1", "p99"), 1e-9)
        verdict = " ok" if value <= P99_GOAL else " ABOVE GOAL"
        out(f"  RATIO {SLOTS} / B_db1 (p99 latency): {value:.2f}  (goal <= {P99_GOAL}){verdict}")
    if BOOK in results.samples:
        samples = results.samples[BOOK]
        out(
            f"  {BOOK}: {sum(s.requests for s in samples)} requests in {len(samples)} rounds, "
            f"{sum(s.errors for s in samples)} non-2xx or socket errors"
        )
