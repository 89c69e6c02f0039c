"""`make bench`: measure every target of issue 12 in one run, interleaved, and print medians, p95 and every ratio.

    .venv/bin/python bench/run.py [--workers 2 --worker-class gthread --threads 4] [--rounds 3 --duration 10]
    .venv/bin/python bench/run.py --worker-table      # P0: B_json and B_db1 under four gunicorn configurations
    .venv/bin/python bench/run.py --smoke             # tiny check: Flask test client, a few requests per target

Against the database of DATABASE_URL (the app role's URL of a database filled by bench/seed.py; the staff logins
come from bench/.logins), it starts gunicorn (wsgi:application, BENCHMARK_ENDPOINTS=1, the same settings for every
endpoint) unless --url names a running server, warms every target up, then runs --rounds rounds of every target in
turn (A B C ... A B C ...) for --duration seconds each at --connections connections. Phone targets carry an access
token minted for a seeded bound account; portal pages are measured at province and station scope with the session
cookie of a seeded staff member. Issue 21 adds `GET /services/{id}/slots` and `POST /bookings` (bench/caps.py: a pool
of --book-pool veterans, each booking a different free slot; the bench cancels its bookings after every run) when the
database holds bench/seed_caps.py's services. It then runs the extras and prints their lines: bench/exports.py,
bench/jobs.py (--jobs-database-url), bench/assessment.py and bench/exports_caps.py (on the benchmarked database) and
bench/payroll.py (--payroll-database-url: a database of its own, it truncates tables). See bench/load.py for the load
generator and its limits. Prints; asserts nothing.
"""

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import caps, load, targets  # noqa: E402
from bench.targets import Results  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
WORKER_TABLE = [("sync", 2, 1), ("sync", 5, 1), ("gthread", 2, 4), ("gthread", 3, 8)]


# One User-Agent for every request: the portal's "strong" session protection (Flask-Login) binds a session to the
# address and User-Agent it logged in with, so the login and the load must send the same one.
USER_AGENT = "veterans-bench"


def _headers(target, token, cookies):
    if target.auth == "own":  # bench/caps.py: a target with its own token
        return {"User-Agent": USER_AGENT, **target.headers}
    if target.auth == "token":
        return {"User-Agent": USER_AGENT, "Authorization": f"Bearer {token}"}
    if target.auth:
        return {"User-Agent": USER_AGENT, "Cookie": cookies[target.auth.split(":")[1]]}
    return {"User-Agent": USER_AGENT}


def portal_cookies(base, logins):
    """Log each seeded staff member in over HTTP; {level: Cookie header value}."""
    import requests

    cookies = {}
    for level, (username, password) in logins.items():
        session = requests.Session()
        session.headers["User-Agent"] = USER_AGENT
        page = session.get(f"{base}/login", timeout=30)
        answer = session.post(
            f"{base}/login", data=targets.login_form(page.text, username, password), allow_redirects=False, timeout=30
        )
        if answer.status_code != 302 or "/login" in answer.headers.get("Location", ""):
            raise SystemExit(f"bench: portal login of {username} failed ({answer.status_code})")
        cookies[level] = "; ".join(f"{k}={v}" for k, v in session.cookies.items())
    return cookies


def _measure(base, target, args, token, cookies, duration, pool=None):
    """One measurement of a target: a scripted one (bench/caps.py's POST) through its wrk script, then the bench
    cancels what it booked; any other a GET through bench/load.py."""
    if getattr(target, "lua", None):
        sample = caps.measure(base, target, duration=duration, connections=args.connections)
        caps.reset(pool)
        return sample
    headers = _headers(target, token, cookies)
    return load.measure(base + target.path, headers=headers, duration=duration, connections=args.connections)


def _interleaved(base, chosen, args, token, login, results, verbose=True, pool=None):
    """Warm every target up, then run the rounds A B C ... A B C ...; before each round the staff log in afresh (so
    the idle timeout never ends a session mid-run) and every target is checked for a 2xx answer before and after its
    measurement (wrk counts only 4xx/5xx as errors, not a redirect to the login page)."""
    cookies = login()
    for target in chosen:  # warm-up, not recorded
        _measure(base, target, args, token, cookies, args.warmup, pool)
    for round_no in range(1, args.rounds + 1):
        cookies = login()
        _preflight(base, chosen, token, cookies, results)
        for target in chosen:
            sample = _measure(base, target, args, token, cookies, args.duration, pool)
            results.add(target.name, sample)
            _preflight(base, [target], token, cookies, results)  # and after: wrk takes a redirect for a success
        if verbose:
            print(f"  round {round_no}/{args.rounds} done", flush=True)


def _preflight(base, chosen, token, cookies, results):
    import requests

    for target in chosen:
        if getattr(target, "lua", None):  # a POST: its wrk run counts the non-2xx answers
            continue
        headers = _headers(target, token, cookies)
        answer = requests.get(base + target.path, headers=headers, allow_redirects=False, timeout=120)
        if results.statuses.get(target.name, 200) in range(200, 300):
            results.statuses[target.name] = answer.status_code
        if not 200 <= answer.status_code < 300:
            print(f"  WARNING {target.name}: answered {answer.status_code}", flush=True)


def _server_env(args):
    return {
        "APP_ENV": os.environ.get("APP_ENV", "development"),
        "DATABASE_URL": args.database_url,
        "BENCHMARK_ENDPOINTS": "1",
        "CELERY_BROKER_URL": args.broker,
        # the phone token check's cache in Redis, as production runs it (backend/cache.py); a dict per worker otherwise
        "REDIS_URL": os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/12"),
    }


def _config(args, **overrides):
    """The server's configuration class for in-process use (minting tokens, the smoke run)."""
    os.environ.update(_server_env(args))
    from config.settings import get_config

    attrs = {"SQLALCHEMY_DATABASE_URI": args.database_url, "BENCHMARK_ENDPOINTS": True, **overrides}
    return type("BenchConfig", (get_config(),), attrs)


def _api_app(args):
    from miniprogram_api import create_app

    return create_app(_config(args, CELERY_BROKER_URL=args.broker))


def _purge_bench_queue(broker):
    import redis

    try:
        redis.Redis.from_url(broker).delete("bench")
    except redis.RedisError as error:
        print(f"  (could not empty the bench queue: {error})")


def _extras(args):
    """Other slices' scripts, with their own output: bench/exports.py (needs no database) and bench/jobs.py, which
    TRUNCATEs and seeds tables, so it runs only on --jobs-database-url (a database of its own), never the seeded one."""
    extras = [("exports.py", None, []), ("jobs.py", args.jobs_database_url, [])]
    # issue 21: the assessment dashboard and the new exports on the benchmarked database; the payroll run at 1M on a
    # database of its own (it truncates tables), only when --payroll-database-url names one
    extras += [("assessment.py", args.database_url, [])]
    extras += [("exports_caps.py", args.database_url, ["--logins", args.logins])]
    extras += [("payroll.py", args.payroll_database_url, ["--veterans", str(args.payroll_veterans)])]
    for script, database_url, options in extras:
        path = ROOT / "bench" / script
        if not path.exists():
            print(f"\nbench/{script}: not present, skipped")
            continue
        if script in ("jobs.py", "payroll.py") and not database_url:
            flag = "--jobs-database-url" if script == "jobs.py" else "--payroll-database-url"
            print(f"\nbench/{script}: skipped (it truncates tables: set {flag} to a database of its own)")
            continue
        print(f"\nbench/{script}:", flush=True)
        env = {**os.environ, **({"DATABASE_URL": database_url} if database_url else {})}
        command = [sys.executable, str(path), *options]
        done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
        for line in (done.stdout + done.stderr).splitlines():
            print(f"  {line}")
        if done.returncode:
            print(f"  (exited with {done.returncode})")


def run(args):
    chosen = [t for t in targets.ALL if not args.only or any(s in t.name for s in args.only)]
    api_app = _api_app(args)
    token = targets.mint_token(api_app)
    pool = None
    if args.book_pool and (not args.only or any(s in n for s in args.only for n in (caps.SLOTS, caps.BOOK))):
        found, pool = caps.prepare(api_app, args.database_url, args.book_pool)
        chosen += [t for t in found if not args.only or any(s in t.name for s in args.only)]
    logins = targets.read_logins(args.logins)
    print(f"load: {load.generator_name()}; {args.connections} connections, {args.rounds} rounds x {args.duration} s")
    server = None
    if not args.url:
        print(f"gunicorn: {args.workers} x {args.worker_class} (threads {args.threads}), log {OUT / 'gunicorn.log'}")
        server = load.Server(
            port=args.port,
            workers=args.workers,
            worker_class=args.worker_class,
            threads=args.threads,
            env=_server_env(args),
            log_path=OUT / "gunicorn.log",
        ).__enter__()
    base = args.url or server.base
    results = Results()
    try:
        _interleaved(base, chosen, args, token, lambda: portal_cookies(base, logins), results, pool=pool)
    finally:
        if server:
            server.__exit__(None, None, None)
        _purge_bench_queue(args.broker)
    targets.report(results, ratios=targets.RATIOS + caps.RATIOS)
    caps.report(results)
    if not args.skip_extras:
        _extras(args)


def worker_table(args):
    """P0: throughput, p99 and total RSS of B_json and B_db1 under each worker configuration."""
    chosen = [t for t in targets.BASELINES if t.name in ("B_json", "B_db1")]
    print(f"load: {load.generator_name()}; {args.connections} connections, {args.rounds} rounds x {args.duration} s")
    print(f"\n  {'workers':<16}{'B_json req/s':>14}{'p99 ms':>9}{'B_db1 req/s':>14}{'p99 ms':>9}{'RSS MB':>9}")
    for worker_class, workers, threads in WORKER_TABLE:
        results = Results()
        server = load.Server(
            port=args.port,
            workers=workers,
            worker_class=worker_class,
            threads=threads,
            env=_server_env(args),
            log_path=OUT / "gunicorn.log",
        )
        with server:
            _interleaved(server.base, chosen, args, None, dict, results, verbose=False)
            rss = server.rss_mb()
        label = f"{worker_class} {workers}" + (f"x{threads}" if worker_class == "gthread" else "")
        print(
            f"  {label:<16}{results.median('B_json', 'rps'):>14.1f}{results.median('B_json', 'p99'):>9.1f}"
            f"{results.median('B_db1', 'rps'):>14.1f}{results.median('B_db1', 'p99'):>9.1f}{rss:>9.0f}",
            flush=True,
        )


def smoke(portal_app, api_app, *, logins=targets.LOGINS, requests_per_target=3, out=print):
    """Every target through the Flask test client, a few requests each; returns (Results, ratio lines). No timing
    claims: this proves the targets answer and the report prints, on tiny data (part of `make test`)."""
    from werkzeug.middleware.dispatcher import DispatcherMiddleware
    from werkzeug.test import Client

    wsgi = DispatcherMiddleware(portal_app, {"/api": api_app})
    token = targets.mint_token(api_app)
    clients = {None: Client(wsgi), "token": Client(wsgi)}
    for level, (username, password) in targets.read_logins(logins).items():
        client = clients[f"staff:{level}"] = Client(wsgi)
        page = client.get("/login").get_data(as_text=True)
        client.post("/login", data=targets.login_form(page, username, password))
    results = Results()
    for target in targets.ALL:
        client = clients[target.auth]
        latencies = []
        for _ in range(requests_per_target):
            started = time.perf_counter()
            answer = client.get(target.path, headers=_headers(target, token, {}) if target.auth == "token" else {})
            latencies.append(time.perf_counter() - started)
            results.statuses.setdefault(target.name, answer.status_code)
            if not 200 <= answer.status_code < 300:
                results.statuses[target.name] = answer.status_code
        results.add(target.name, load.sample_from(latencies, sum(latencies)))
    lines = targets.report(
        results, out=out, title="Smoke (Flask test client, tiny data; no timing claims)", verdicts=False
    )
    out(f"smoke: {len(results.samples)} targets, median status {statistics.median(results.statuses.values())}")
    return results, lines


def _smoke_main(args):
    config = _config(args, CELERY_BROKER_URL=None)  # eager: the no-op task runs in-process
    from admin_portal import create_app as create_portal
    from miniprogram_api import create_app as create_api

    results, _ = smoke(create_portal(config), create_api(config), logins=args.logins)
    bad = {name: code for name, code in results.statuses.items() if not 200 <= code < 300}
    if bad:
        raise SystemExit(f"smoke: non-2xx answers: {bad}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"), help="the app role's URL")
    parser.add_argument("--url", help="a running server with BENCHMARK_ENDPOINTS=1 (default: start gunicorn)")
    parser.add_argument("--port", type=int, default=8899)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--worker-class", default="gthread", choices=("sync", "gthread"))
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--duration", type=int, default=10, help="seconds per target per round")
    parser.add_argument("--warmup", type=int, default=3, help="seconds per target before the first round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--broker", default=os.environ.get("BENCH_CELERY_BROKER_URL", "redis://127.0.0.1:6379/13"))
    parser.add_argument("--logins", default=str(targets.LOGINS))
    parser.add_argument("--only", nargs="*", help="measure only targets whose name contains one of these")
    parser.add_argument("--skip-extras", action="store_true", help="do not run bench/exports.py and bench/jobs.py")
    parser.add_argument(
        "--jobs-database-url",
        default=os.environ.get("BENCH_JOBS_DATABASE_URL"),
        help="the owner's URL of a database of its own for bench/jobs.py (it truncates tables)",
    )
    parser.add_argument(
        "--book-pool", type=int, default=4000, help="veterans booking in POST /bookings (0: no booking targets)"
    )
    parser.add_argument(
        "--payroll-database-url",
        default=os.environ.get("BENCH_PAYROLL_DATABASE_URL"),
        help="the owner's URL of a database of its own for bench/payroll.py (it truncates tables)",
    )
    parser.add_argument("--payroll-veterans", type=int, default=1_000_000, help="bench/payroll.py's large run")
    parser.add_argument("--worker-table", action="store_true", help="P0: B_json and B_db1 under four configurations")
    parser.add_argument("--smoke", action="store_true", help="Flask test client, a few requests per target")
    args = parser.parse_args(argv)
    if not args.database_url:
        parser.error("set DATABASE_URL (the app role's URL of a seeded database) or --database-url")
    if args.smoke:
        _smoke_main(args)
    elif args.worker_table:
        worker_table(args)
    else:
        run(args)


if __name__ == "__main__":
    main()
