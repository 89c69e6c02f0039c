"""Issue 21 (P8-P10): the phone journey under Locust against gunicorn with config/gunicorn.py, on a seeded database.

    .venv/bin/python bench/journeys.py --database-url postgresql+psycopg://veterans_app@127.0.0.1/veterans_bench \\
        --owner-url postgresql+psycopg://postgres@127.0.0.1/veterans_bench [--steps 25,50,100,200,300] [--quick]

Phases, each one Locust run (bench/locustfile.py, headless) on one gunicorn (config/gunicorn.py, the chosen worker
config) and one Celery worker:
  (a) steps: the user count goes up stage by stage (think times 1-3 s); the highest rate held at p95 < 500 ms with 0
      errors, and the saturating concurrency: the smallest stage reaching 95 % of the best rate;
  (b) spike: journeys arriving at a constant rate (JOURNEY_PACE) worth ~170 requests/s, the click-through after a 100k
      notification (20 % of 100k in 10 min, ~5 requests each; our journey makes 8-10);
  (c) overload: 2 x the saturating concurrency with no think time, then back to a light load; 5xx share, maximum
      response time, and the recovery: seconds after the drop until the p95 of every later second is < 500 ms;
  (d) footprint: every 2 s during the load, RSS and PSS (from /proc) summed over gunicorn, the Celery worker, every
      redis-server and every postgres process (the whole cluster: shared with anything else running on it).

Setup: the registration window (registration_window, per year, system-wide or per unit subtree; default 1 January -
31 March) is opened for the year with a system-wide row through the owner's URL and restored at the end; access
tokens are minted in-process (bench/targets.py's way) for accounts whose veteran has no registration this year or a
draft, so the draft save and submit really write. Booking runs only when the database has bookable slots.
"""

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import journey_stats as stats  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"
P95_GOAL_MS = 500


def _server_env(args):
    return {
        "APP_ENV": "development",  # bench/run.py's choice: the seeded database's development keys
        "DATABASE_URL": args.database_url,
        "REDIS_URL": args.redis,
        "CELERY_BROKER_URL": args.broker,
        "RATELIMIT_STORAGE_URI": args.redis,
        "DB_STATEMENT_TIMEOUT_MS": str(args.statement_timeout_ms),  # production's default, set explicitly here
        "GUNICORN_BIND": f"127.0.0.1:{args.port}",
        "BENCHMARK_ENDPOINTS": "1",
    }


def open_window(owner_url):
    """Open this year's registration window system-wide; returns what restore_window needs."""
    import psycopg

    from backend.registration.windows import today_cst

    today = today_cst()
    with psycopg.connect(owner_url.replace("+psycopg", ""), autocommit=True) as conn:
        row = conn.execute(
            "SELECT id, closes_on FROM registration_window WHERE year = %s AND unit_id IS NULL", (today.year,)
        ).fetchone()
        if row is None:
            inserted = conn.execute(
                "INSERT INTO registration_window (year, opens_on, closes_on, created_at) "
                "VALUES (%s, make_date(%s, 1, 1), make_date(%s, 12, 31), now()) RETURNING id",
                (today.year, today.year, today.year),
            ).fetchone()
            return ("delete", inserted[0], None)
        if row[1] < today:
            conn.execute(
                "UPDATE registration_window SET closes_on = make_date(%s, 12, 31) WHERE id = %s", (today.year, row[0])
            )
            return ("update", row[0], row[1])
        return ("none", row[0], None)


def restore_window(owner_url, saved):
    import psycopg

    action, row_id, closes_on = saved
    with psycopg.connect(owner_url.replace("+psycopg", ""), autocommit=True) as conn:
        if action == "delete":
            conn.execute("DELETE FROM registration_window WHERE id = %s", (row_id,))
        elif action == "update":
            conn.execute("UPDATE registration_window SET closes_on = %s WHERE id = %s", (closes_on, row_id))


def mint_tokens(args, count, path):
    """Access tokens for `count` bound accounts of active veterans whose registration this year is absent or a
    draft (spread over the table); written one per line. Returns how many, and whether bookable slots exist."""
    os.environ.update(_server_env(args))
    from sqlalchemy import text

    from backend.accounts.models import WechatAccount
    from backend.extensions import db
    from backend.registration.windows import today_cst
    from config.settings import get_config
    from miniprogram_api import create_app
    from miniprogram_api.security import issue_tokens

    config = type("JourneyConfig", (get_config(),), {"SQLALCHEMY_DATABASE_URI": args.database_url})
    app = create_app(config)
    with app.app_context():
        ids = db.session.scalars(
            text(
                "SELECT a.id FROM wechat_account a JOIN veteran v ON v.id = a.veteran_id "
                "LEFT JOIN registration r ON r.veteran_id = v.id AND r.year = :year "
                "WHERE v.status = 'active' AND (r.id IS NULL OR r.status = 'draft') "
                "ORDER BY md5(a.id::text) LIMIT :n"
            ),
            {"year": today_cst().year, "n": count},
        ).all()
        lines = [issue_tokens(db.session.get(WechatAccount, account_id))["access_token"] for account_id in ids]
        db.session.commit()
        slots = db.session.scalar(text("SELECT count(*) FROM slot WHERE starts_at > now()")) or 0
        db.session.remove()
    Path(path).write_text("\n".join(lines) + "\n", encoding="utf-8")
    return len(lines), slots


class Services:
    """gunicorn (config/gunicorn.py) and one Celery worker, started and stopped together."""

    def __init__(self, args, logdir):
        self.args, self.logdir, self.processes = args, Path(logdir), {}

    def __enter__(self):
        env = {**os.environ, **_server_env(self.args)}
        commands = {
            "gunicorn": [str(BIN / "gunicorn"), "-c", "config/gunicorn.py", "wsgi:application"],
            "celery": [str(BIN / "celery"), "-A", "backend.worker", "worker", "-Q", "default,notify,imports,exports"]
            + ["--concurrency", "2", "--loglevel", "WARNING"],
        }
        for name, command in commands.items():
            log = open(self.logdir / f"{name}.log", "ab")  # noqa: SIM115 (closed with the process)
            self.processes[name] = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=log)
        stats.wait_for(f"http://127.0.0.1:{self.args.port}/api/v1/_bench/json", self.processes["gunicorn"])
        return self

    def __exit__(self, *exc):
        for process in self.processes.values():
            process.terminate()
        for process in self.processes.values():
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()

    def pids(self):
        return {name: process.pid for name, process in self.processes.items()}


def _journeys_done(logdir):
    """Journeys of the earlier runs (one GET /me each): the next run starts at the token after them."""
    return sum(1 for log in Path(logdir).glob("*.requests") for row in stats.read_log(log) if row[4] == "/me")


def run_locust(args, logdir, label, stages, *, pace=None, think="1,3"):
    """One headless Locust run of bench/locustfile.py through `stages`; returns the request log's rows."""
    log = Path(logdir) / f"{label}.requests"
    log.unlink(missing_ok=True)
    env = {
        **os.environ,
        "JOURNEY_TOKENS": str(Path(logdir) / "tokens"),
        "JOURNEY_LOG": str(log),
        "JOURNEY_STAGES": ",".join(f"{u}:{s}" for u, s in stages),
        "JOURNEY_THINK": think,
        "JOURNEY_PACE": str(pace or ""),
        "JOURNEY_TOKEN_OFFSET": str(_journeys_done(logdir)),
    }
    command = [str(BIN / "locust"), "-f", "bench/locustfile.py", "--headless", "--only-summary"]
    command += ["--host", f"http://127.0.0.1:{args.port}", "--loglevel", "WARNING"]
    started = time.time()
    with open(Path(logdir) / f"{label}.locust.log", "wb") as out:
        subprocess.run(command, cwd=ROOT, env=env, stdout=out, stderr=out, check=False)
    return started, stats.read_log(log)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"), help="the app role's URL")
    parser.add_argument("--owner-url", required=True, help="the owner's URL (opens and restores the window)")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/5")
    parser.add_argument("--broker", default="redis://127.0.0.1:6379/4")
    parser.add_argument("--port", type=int, default=8121)
    parser.add_argument("--accounts", type=int, default=20000)
    parser.add_argument("--statement-timeout-ms", type=int, default=8000)
    parser.add_argument("--steps", default="20,50,100,200,300,400", help="user counts of phase (a)")
    parser.add_argument("--step-seconds", type=int, default=40)
    parser.add_argument("--spike-rps", type=float, default=170.0)
    parser.add_argument("--spike-seconds", type=int, default=60)
    parser.add_argument("--spike-users", type=int, default=200, help="concurrent users sharing the spike's rate")
    parser.add_argument("--overload-seconds", type=int, default=60)
    parser.add_argument("--recovery-seconds", type=int, default=60)
    parser.add_argument("--logdir", default=None)
    args = parser.parse_args(argv)
    if not args.database_url:
        parser.error("set DATABASE_URL (the app role's URL of a database filled by bench/seed.py) or --database-url")
    logdir = Path(args.logdir or tempfile.mkdtemp(prefix="journeys-"))
    logdir.mkdir(parents=True, exist_ok=True)
    print(f"journeys: logs in {logdir}; load average before: {stats.loadavg()}", flush=True)
    saved = open_window(args.owner_url)
    try:
        minted, slots = mint_tokens(args, args.accounts, logdir / "tokens")
        print(f"journeys: {minted} tokens minted; {slots} future slots (booking {'on' if slots else 'skipped'})")
        with Services(args, logdir) as services:
            sampler = stats.Footprint(services.pids())
            thread = threading.Thread(target=sampler.run, daemon=True)
            thread.start()
            report = phases(args, logdir)
            sampler.stop = True
            thread.join()
        report["footprint"] = sampler.summary()
    finally:
        restore_window(args.owner_url, saved)
    report["load average after"] = stats.loadavg()
    stats.print_report(report)


def phases(args, logdir):
    steps = [int(x) for x in args.steps.split(",")]
    started, rows = run_locust(args, logdir, "steps", [(u, args.step_seconds) for u in steps])
    step_table = stats.per_stage(rows, started, [(u, args.step_seconds) for u in steps], settle=10)
    best = max(
        (s for s in step_table if s["p95"] < P95_GOAL_MS and s["errors"] == 0), key=lambda s: s["rps"], default=None
    )
    top = max(s["rps"] for s in step_table)
    saturating = next(s["users"] for s in step_table if s["rps"] >= 0.95 * top)
    report = {"steps": step_table, "held": best, "saturating users": saturating}
    # (b) the spike: journeys arriving at a constant rate (JOURNEY_PACE is journeys per second per user), as many per
    # second as make spike_rps requests given the requests per journey seen in (a)
    per_journey = len(rows) / max(sum(1 for row in rows if row[4] == "/me"), 1)
    users = args.spike_users
    pace = args.spike_rps / per_journey / users
    started, rows = run_locust(args, logdir, "spike", [(users, args.spike_seconds)], pace=pace)
    report["spike"] = stats.per_stage(rows, started, [(users, args.spike_seconds)], settle=5)[0]
    report["spike"]["requests per journey"] = round(per_journey, 2)
    # (c) overload: 2 x the saturating concurrency (the same think times), then down to half of it
    heavy, light = 2 * saturating, max(saturating // 2, 5)
    shape = [(heavy, args.overload_seconds), (light, args.recovery_seconds)]
    started, rows = run_locust(args, logdir, "overload", shape)
    report["overload"] = stats.overload(rows, started, shape, P95_GOAL_MS)
    return report


if __name__ == "__main__":
    main()
