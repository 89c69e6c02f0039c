"""Benchmark: audited web writes while background jobs run, and real exports from the seeded database (issue 12:
"audited web writes unaffected (p95 within 1.5x idle) while a job runs"; quality.md P6). Prints figures and ratios,
asserts nothing.

    DATABASE_URL=postgresql+psycopg://veterans_app@127.0.0.1:5432/veterans_bench .venv/bin/python bench/during_job.py

Against the database bench/seed.py filled:
  1. exports, each in a fresh subprocess: the veteran roster of a city (~1/14 of the province) and of the province
     (1M rows), through the real export job (backend/exports/service.run): rows, seconds, rows/s and peak RSS, and
     RSS(province) / RSS(city);
  2. an audited phone write (PATCH /api/v1/me: a contact change, one audit row and one history row each, a fresh
     Idempotency-Key each) under wrk against gunicorn, idle and then while a job process runs (the registration overdue
     job on its first run after the window closes, then the province export, then figure roll-ups until the
     measurement ends); p95 during / p95 idle.
The overdue job changes the seeded data the first time (drafts and missing rows become overdue); later runs find
nothing to mark, so the write measurement then runs beside the export and the roll-ups only.
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("APP_ENV", "development")

from bench import load, targets  # noqa: E402

WRITE_LUA = """
local n = 0
local prefix = nil
local tokens = {%s}
request = function()
  if prefix == nil then prefix = string.gsub(tostring({}), "[^%%w]", "") .. tostring(math.random(1, 1000000000)) end
  n = n + 1
  local headers = {}
  headers["Authorization"] = "Bearer " .. tokens[(n %% #tokens) + 1]
  headers["Content-Type"] = "application/json"
  headers["Idempotency-Key"] = prefix .. "-" .. n
  return wrk.format("PATCH", "/api/v1/me", headers, string.format('{"address": "基准路%%d号"}', n %% 7))
end
"""


def _app():
    from backend import create_app

    return create_app()


def _tokens(count):
    from sqlalchemy import select

    from backend.accounts.models import WechatAccount
    from backend.extensions import db
    from backend.veterans.models import Veteran
    from miniprogram_api import create_app
    from miniprogram_api.security import issue_tokens

    api = create_app()
    with api.app_context():
        accounts = db.session.scalars(
            select(WechatAccount)
            .join(Veteran, Veteran.id == WechatAccount.veteran_id)
            .where(Veteran.status == "active")
            .order_by(WechatAccount.id)
            .limit(count)
        ).all()
        tokens = [issue_tokens(a)["access_token"] for a in accounts]
        db.session.remove()
    return tokens


def _writes(base, tokens, *, duration, connections):
    """One wrk run of the audited write: a Sample (bench.targets)."""
    lua = WRITE_LUA % ", ".join(json.dumps(t) for t in tokens) + load.LUA
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(lua)
    try:
        args = [load.WRK, "-t2", f"-c{connections}", f"-d{duration}s", "--timeout", "30s", "--latency"]
        output = subprocess.run(
            args + ["-s", script.name, base], capture_output=True, text=True, timeout=duration + 60
        ).stdout
    finally:
        os.unlink(script.name)
    line = next(x for x in output.splitlines() if x.startswith("BENCH "))
    requests, micros, status_errors, socket_errors, p50, p95, p99 = (float(x) for x in line.split()[1:])
    return targets.Sample(
        requests / (micros / 1e6), p50 / 1000, p95 / 1000, p99 / 1000, int(requests), int(status_errors + socket_errors)
    )


# --- the job process (run as a subprocess: `during_job.py --job <kind>`)


def _staff(level):
    from sqlalchemy import select

    from backend.extensions import db
    from backend.staff.models import Staff

    username = targets.read_logins()[level][0]
    return db.session.scalars(select(Staff).where(Staff.username == username)).one()


def _export(level):
    from backend.exports import service

    actor = _staff(level)
    started = time.monotonic()
    job = service.request_export(actor=actor, kind="veterans", params={})  # eager Celery runs it here (no broker)
    service.run(job.id)  # does nothing when it already ran
    from backend.exports.models import ExportJob
    from backend.extensions import db

    db.session.expire_all()
    done = db.session.get(ExportJob, job.id)
    return {"rows": done.rows_done, "seconds": time.monotonic() - started, "status": done.status}


def job_main(kind):
    os.environ.pop("CELERY_BROKER_URL", None)  # eager Celery: the export runs in this process, measured
    app = _app()
    with app.app_context():
        out = {}
        if kind == "overdue":
            from backend.registration import jobs

            started = time.monotonic()
            year = datetime.now(UTC).year
            out["marked"] = jobs.mark_overdue(now=datetime(year, 4, 2, 1, 0, tzinfo=UTC))
            out["overdue_seconds"] = time.monotonic() - started
            out.update(_export("province"))
            from backend.figures.rollup import rollup

            for _ in range(20):
                rollup()
        else:
            out.update(_export(kind))
    out["maxrss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print("RESULT " + json.dumps(out), flush=True)


def _job(kind, wait=True, nice=0):
    process = subprocess.Popen(
        [sys.executable, __file__, "--job", kind],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        env=os.environ.copy(),
        preexec_fn=(lambda: os.nice(nice)) if nice else None,  # noqa: PLW1509 (no threads started yet)
    )
    if not wait:
        return process
    return _result(process)


def _result(process):
    stdout, _ = process.communicate()
    line = next((x for x in stdout.splitlines() if x.startswith("RESULT ")), None)
    return json.loads(line[7:]) if line else {"error": stdout[-500:]}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--job", help=argparse.SUPPRESS)
    parser.add_argument("--duration", type=int, default=15)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--port", type=int, default=8898)
    parser.add_argument("--skip-exports", action="store_true")
    parser.add_argument(
        "--nice",
        type=int,
        default=0,
        help="run the job process at this niceness (e.g. 19): on one shared box this separates the database's "
        "interference (locks, I/O) from plain CPU sharing, which separate worker machines would not have",
    )
    args = parser.parse_args(argv)
    if args.job:
        return job_main(args.job)
    if not os.environ.get("DATABASE_URL"):
        raise SystemExit("set DATABASE_URL to the seeded database (bench/seed.py)")
    if not args.skip_exports:
        print("exports of the veteran roster (fresh process each; rows, s, rows/s, peak RSS):", flush=True)
        city, province = _job("city"), _job("province")
        for name, r in (("city", city), ("province", province)):
            if "rows" in r:
                print(
                    f"  {name:9} {r['rows']:>9,} rows {r['seconds']:7.1f} s {r['rows'] / r['seconds']:8.0f} rows/s "
                    f"RSS {r['maxrss_mb']:6.0f} MB ({r['status']})"
                )
            else:
                print(f"  {name}: {r}")
        if "maxrss_mb" in city and "maxrss_mb" in province:
            print(f"  RSS(province) / RSS(city) = {province['maxrss_mb'] / city['maxrss_mb']:.2f} (goal <= 1.2)")
    tokens = _tokens(8)
    env = {
        "APP_ENV": "development",
        "DATABASE_URL": os.environ["DATABASE_URL"],
        "BENCHMARK_ENDPOINTS": "1",
        "REDIS_URL": os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/12"),
    }
    with load.Server(
        port=args.port,
        workers=2,
        worker_class="gthread",
        threads=4,
        env=env,
        log_path=ROOT / "bench" / "out" / "during_job.log",
    ) as server:
        _writes(server.base, tokens, duration=3, connections=args.connections)  # warm-up
        idle = _writes(server.base, tokens, duration=args.duration, connections=args.connections)
        process = _job("overdue", wait=False, nice=args.nice)
        time.sleep(1)
        during = []
        while process.poll() is None or not during:
            during.append(_writes(server.base, tokens, duration=args.duration, connections=args.connections))
        job = _result(process)
    worst = max(during, key=lambda s: s.p95)
    print(
        "audited write PATCH /api/v1/me (gunicorn 2 x gthread 4, wrk, "
        f"{args.connections} connections, {args.duration} s per run; job niceness {args.nice}):"
    )
    print(f"  idle          {idle.rps:7.1f} rps  p50 {idle.p50:6.1f} ms  p95 {idle.p95:6.1f} ms  errors {idle.errors}")
    for s in during:
        print(f"  during a job  {s.rps:7.1f} rps  p50 {s.p50:6.1f} ms  p95 {s.p95:6.1f} ms  errors {s.errors}")
    print(f"  the job: {job}")
    print(f"  p95 during (worst run) / p95 idle = {worst.p95 / idle.p95:.2f} (goal <= 1.5)")


if __name__ == "__main__":
    main()
