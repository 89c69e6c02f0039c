"""Benchmark P7 (issue 21, "Fan-out"): one care notification to every bound veteran through the real pipeline, with
the fake WeChat answering each subscribe send after --send-delay seconds. Prints figures and ratios, asserts nothing.

    DATABASE_URL=postgresql+psycopg://veterans_app@127.0.0.1:5432/veterans_fanout \\
    MIGRATION_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/veterans_fanout \\
      .venv/bin/python bench/fanout.py --concurrency 50 [--recipients 2000] [--kill-at 0.4]

Against a database bench/seed.py filled (README "Benchmarks"), it starts: the fake WeChat (backend/wechat/
fake_server.py under gunicorn, one process, so its receipts are one list), gunicorn for the web (2 gthread x 4, the
chosen production config), and `celery -A backend.worker worker -Q notify --pool threads -c <concurrency>`. Then:
  1. B_celery: wrk on GET /api/v1/_bench/celery (publishes one no-op task), tasks/s;
  2. idle p99 of GET /api/v1/inbox (a phone read) at --web-connections connections, in --window second windows
     (3 before the worker starts, 3 after it is stopped; the idle figure is the median of the six);
  3. the send: the province reviewer composes the notification (audience "WeChat bound", or --recipients picks),
     submits it (over 1,000 recipients: pending approval), a second reviewer approves it -> t0. Enqueue time: t0 to
     the worker's "notifications.deliver succeeded" log line (every batch task published); per-message rate =
     deliveries / enqueue time, against B_celery. Total: t0 to the notification's status "done";
     ideal = sends x delay / concurrency, or sends / NOTIFY_SEND_RATE when the cap binds;
  4. the same phone read in windows while it runs: p99 during / p99 idle;
  5. with --kill-at F: the worker is SIGKILLed once F of the sends are done and a new one started; WeChat's sent
     events reach handle_event (as the push endpoint would) and the watchdog runs every 60 s, as beat runs it.
     At the end, WeChat's receipts per openid against the delivery rows: duplicates and misses.
"""

import argparse
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
OUT = ROOT / "bench" / "out"
# Limits for the run, in the order settings require (soft < hard < visibility); a batch of 500 at 0.1 s takes ~50 s,
# so a SIGKILLed worker's batches come back after 150 s instead of the production hour.
LIMITS = {
    "CELERY_VISIBILITY_TIMEOUT": "150",
    "CELERY_TASK_SOFT_TIME_LIMIT": "100",
    "CELERY_TASK_TIME_LIMIT": "110",
    "NOTIFY_TASK_SOFT_TIME_LIMIT": "100",
    "NOTIFY_TASK_TIME_LIMIT": "110",
    "EXPORT_TASK_SOFT_TIME_LIMIT": "100",
    "EXPORT_TASK_TIME_LIMIT": "110",
    "NOTIFY_IN_DOUBT_SECONDS": "60",
}
BATCH = re.compile(r"Task notifications\.deliver_batch\[[^\]]+\] succeeded in ([\d.]+)s: (\{.*\})")
DELIVERED = re.compile(
    r"^\[(\S+ \S+): INFO/[^\]]*\] Task notifications\.deliver\[[^\]]+\] succeeded in ([\d.]+)s: (\d+)"
)


def _env(args):
    return {
        **os.environ,
        **LIMITS,
        "APP_ENV": "development",
        "DATABASE_URL": args.database_url,
        "CELERY_BROKER_URL": args.broker,
        "REDIS_URL": args.redis_url,
        "WECHAT_API_BASE": f"http://127.0.0.1:{args.fake_port}/",
        "NOTIFY_SEND_RATE": str(args.rate),
        "BENCHMARK_ENDPOINTS": "1",
    }


def _wait_http(url, what, process):
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"bench/fanout.py: {what} exited at start")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"bench/fanout.py: {what} did not answer within 60 s")


def _fake(args, path, payload=None):
    url = f"http://127.0.0.1:{args.fake_port}/__fake/{path}"
    data = None if payload is None else json.dumps(payload).encode()
    with urllib.request.urlopen(urllib.request.Request(url, data=data), timeout=120) as answer:
        return json.loads(answer.read())


def start_fake(args, env):
    command = ["nice", "-n", str(args.fake_nice)] if args.fake_nice else []
    command += [str(ROOT / ".venv/bin/gunicorn"), "backend.wechat.fake_server:create_fake_app()"]
    command += [f"--bind=127.0.0.1:{args.fake_port}", "--workers=1", "--worker-class=gthread"]
    command += [f"--threads={max(16, 2 * args.concurrency)}", "--timeout=120"]
    log = open(OUT / "fanout-fake.log", "ab")  # noqa: SIM115 - closed with the process
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=log, start_new_session=True)
    _wait_http(f"http://127.0.0.1:{args.fake_port}/__fake/events", "the fake WeChat", process)
    return process


def start_worker(args, env, log):
    command = ["nice", "-n", str(args.worker_nice)] if args.worker_nice else []
    command += [sys.executable, "-m", "celery", "-A", "backend.worker", "worker", "-Q", "notify", "--pool", "threads"]
    command += [
        "-c",
        str(args.concurrency),
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
        "-l",
        "INFO",
    ]
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def stop(process, sig=signal.SIGTERM):
    if process is None or process.poll() is not None:
        return
    try:
        os.killpg(process.pid, sig)  # the process and anything it started, by its own group id
    except ProcessLookupError:
        return
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def enqueue_done(log_path):
    """(wall time, batches) of the worker's 'notifications.deliver succeeded' line, or None."""
    for line in Path(log_path).read_text(errors="replace").splitlines():
        found = DELIVERED.match(line)
        if found:
            stamp = datetime.strptime(found.group(1), "%Y-%m-%d %H:%M:%S,%f").timestamp()
            return stamp, int(found.group(3))
    return None


class WebLoad(threading.Thread):
    """The phone read in back-to-back windows until stopped; each window one wrk sample."""

    def __init__(self, url, headers, args):
        super().__init__(daemon=True)
        self.url, self.headers, self.args = url, headers, args
        self.samples, self.halt = [], threading.Event()

    def run(self):
        while not self.halt.is_set():
            self.samples.append(web_window(self.url, self.headers, self.args))


def web_window(url, headers, args):
    from bench.fanout_setup import light

    return light(url, headers=headers, duration=args.window, connections=args.web_connections, pause_ms=args.pause_ms)


def b_celery(base, args):
    """GET /api/v1/_bench/celery under wrk (8 connections, as bench/run.py): no-op tasks published per second."""
    import redis

    from bench import load

    load.measure(base + "/api/v1/_bench/celery", headers={}, duration=3, connections=8)  # warm-up
    sample = load.measure(base + "/api/v1/_bench/celery", headers={}, duration=10, connections=8)
    redis.Redis.from_url(args.broker).delete("bench")  # nobody consumes the no-op tasks
    return sample


class Watchdog:
    """What beat and WeChat's pushes do in production: sent events for in-doubt rows reach handle_event, and the
    watchdog runs every 60 s. Events are drained from the fake every tick; only those of a delivery still 'sending'
    are applied (for the others the event changes nothing: the row already holds its msgid)."""

    def __init__(self, args, notification_id):
        self.args, self.nid = args, notification_id
        self.events, self.last, self.ticks, self.released = {}, time.monotonic(), 0, 0

    def tick(self, force=False):
        from sqlalchemy import select

        from backend.accounts.models import WechatAccount
        from backend.extensions import db
        from backend.notifications import watchdog
        from backend.notifications.models import Delivery
        from backend.subscriptions.service import handle_event

        for event in _fake(self.args, "events"):
            self.events.setdefault(event["FromUserName"], []).append(event)
        if not force and time.monotonic() - self.last < 60:
            return
        self.last, self.ticks = time.monotonic(), self.ticks + 1
        sending = db.session.scalars(
            select(WechatAccount.openid)
            .join(Delivery, Delivery.veteran_id == WechatAccount.veteran_id)
            .where(Delivery.notification_id == self.nid, Delivery.status == "sending")
        ).all()
        for openid in sending:
            for event in self.events.pop(openid, []):
                handle_event(event)
        self.released += watchdog.watchdog()["in_doubt"]
        db.session.remove()


def run(args):
    OUT.mkdir(parents=True, exist_ok=True)
    env = _env(args)
    os.environ.update(env)  # before the configuration is imported: the bench's app is configured like the worker
    import redis
    from sqlalchemy import create_engine

    from backend import create_app
    from bench import fanout_setup as setup
    from bench import load, targets

    app = create_app()
    owner = create_engine(args.owner_url)

    for url in (args.broker, args.redis_url):
        redis.Redis.from_url(url).flushdb()  # this bench's own Redis databases only
    fake = web = worker = None
    worker_log = open(OUT / "fanout-worker.log", "w")  # noqa: SIM115 - closed at the end
    try:
        fake = start_fake(args, env)
        _fake(args, "send-options", {"delay": args.send_delay})
        with app.app_context():
            approver = setup.ensure_approver()
            openids = setup.grant_credits(owner)
            _fake(args, "credits", {"openids": openids, "template_id": setup.TEMPLATE})
            picks = setup.recipient_ids(args.recipients) if args.recipients else None
            started = time.monotonic()
            nid, count, status = setup.compose(picks)
            compose_s = time.monotonic() - started
        from miniprogram_api import create_app as create_api

        token = targets.mint_token(create_api())
        print(f"notification {nid}: {count:,} recipients, {status} (compose + count + submit {compose_s:.1f} s)")
        server = load.Server(
            port=args.web_port, workers=2, worker_class="gthread", threads=4, env=env, log_path=OUT / "fanout-web.log"
        ).__enter__()
        web = server
        celery_rate = b_celery(server.base, args)
        inbox = server.base + "/api/v1/inbox"
        headers = {"User-Agent": "veterans-bench", "Authorization": f"Bearer {token}"}
        idle = [web_window(inbox, headers, args) for _ in range(3)]
        worker = start_worker(args, env, worker_log)
        time.sleep(args.worker_start)  # let the worker connect before the clock starts
        loadgen = WebLoad(inbox, headers, args)
        uptime_before = Path("/proc/loadavg").read_text().split()[:3]
        with app.app_context():
            approver = setup.staff(setup.APPROVER)
            t0 = time.time()
            setup.approve(nid, approver)
            loadgen.start()
            keeper = Watchdog(args, nid)
            killed, done_at = None, None
            expected = None
            second = 0
            while time.time() - t0 < args.timeout:
                time.sleep(1)
                second += 1
                counts, status = setup.progress(nid, counts=second % 5 == 0)  # the counts read 100k rows
                keeper.tick()
                if status == "done":
                    done_at = time.time()
                    break
                if counts is None:
                    continue
                if expected is None and enqueue_done(OUT / "fanout-worker.log"):
                    expected = sum(counts.values())
                finished = counts.get("sent", 0) + counts.get("failed", 0) + counts.get("skipped", 0)
                if args.kill_at and killed is None and expected and finished >= args.kill_at * expected:
                    stop(worker, signal.SIGKILL)
                    killed = (time.time() - t0, dict(counts))
                    worker = start_worker(args, env, worker_log)
                if second % 30 == 0:
                    print(f"  t={time.time() - t0:>5.0f} s {dict(counts)}", flush=True)
            loadgen.halt.set()
            keeper.tick(force=True)
        uptime_after = Path("/proc/loadavg").read_text().split()[:3]
        loadgen.join()
        stop(worker)  # the machine quiet again: idle windows after the run too, so a neighbour's load that came or
        worker = None  # went during the run moves both sides of the ratio (the idle p99 is the median of all six)
        after = [web_window(inbox, headers, args) for _ in range(3)]
        sent = _fake(args, "sent")
        with app.app_context():
            check = setup.final_check(nid, sent, owner)
        report(args, t0, done_at, count, celery_rate, (idle, after), loadgen.samples, check, killed, keeper)
        print(f"load average before {' '.join(uptime_before)}, after {' '.join(uptime_after)}")
    finally:
        stop(worker)
        if web:
            web.__exit__(None, None, None)
        stop(fake)
        worker_log.close()
        redis.Redis.from_url(args.broker).flushdb()


def report(args, t0, done_at, count, celery_rate, idle, during, check, killed, keeper):
    enqueued = enqueue_done(OUT / "fanout-worker.log")
    sends = check["statuses"].get("sent", 0)
    per_second = min(args.concurrency / args.send_delay, args.rate)
    bound = "concurrency" if args.concurrency / args.send_delay <= args.rate else "NOTIFY_SEND_RATE"
    print(f"\nFan-out to {check['deliveries']:,} deliveries ({sends:,} WeChat sends), send delay {args.send_delay} s,")
    print(
        f"  worker --pool threads -c {args.concurrency} (nice {args.worker_nice}, fake nice {args.fake_nice}), "
        f"NOTIFY_CLAIM_SIZE {os.environ.get('NOTIFY_CLAIM_SIZE', 20)}, NOTIFY_SEND_RATE {args.rate}/s: "
        f"the {bound} bound applies"
    )
    if enqueued:
        seconds, batches = enqueued[0] - t0, enqueued[1]
        rate = check["deliveries"] / seconds
        print(f"  enqueue: {batches} batch tasks in {seconds:.1f} s (goal <= 60 s); {rate:,.0f} deliveries/s")
        print(
            f"  B_celery {celery_rate.rps:,.0f} tasks/s; enqueue per delivery / B_celery = {rate / celery_rate.rps:.2f}"
        )
    else:
        print("  enqueue: the deliver task's success line was not found in the worker log")
    batches = [
        (float(m.group(1)), sum(json.loads(m.group(2).replace("'", '"')).values()))
        for m in map(BATCH.search, (OUT / "fanout-worker.log").read_text(errors="replace").splitlines())
        if m
    ]
    full = [seconds / rows for seconds, rows in batches if rows >= 100]
    if full:
        print(
            f"  {len(batches)} batch tasks ran; seconds per delivery in a batch: median {statistics.median(full):.3f}"
            f", max {max(full):.3f} (the send itself {args.send_delay})"
        )
    if done_at:
        total, ideal = done_at - t0, sends / per_second
        print(
            f"  total {total:.1f} s; ideal {ideal:.1f} s ({sends:,} / {per_second:.0f} per s); "
            f"ratio {total / ideal:.2f}"
        )
    else:
        print(f"  not done within {args.timeout} s")
    before, after = idle
    idle = before + after
    p99_idle = statistics.median(s.p99 for s in idle)
    p99s = [s.p99 for s in during]
    if p99s:
        print(
            f"  web GET /api/v1/inbox, {args.web_connections} connections x {args.pause_ms} ms think time: "
            f"p99 idle {p99_idle:.1f} ms (before {statistics.median(s.p99 for s in before):.1f}, after "
            f"{statistics.median(s.p99 for s in after):.1f}) "
            f"({statistics.median(s.rps for s in idle):.0f} req/s); during: median window p99 "
            f"{statistics.median(p99s):.1f} ms, worst {max(p99s):.1f} ms "
            f"({statistics.median(s.rps for s in during):.0f} req/s, {len(p99s)} windows of {args.window} s, "
            f"errors {sum(s.errors for s in during)}); ratio median {statistics.median(p99s) / p99_idle:.2f}, "
            f"worst {max(p99s) / p99_idle:.2f}"
        )
    if killed:
        print(
            f"  worker SIGKILLed at t={killed[0]:.1f} s ({killed[1]}); watchdog ticks {keeper.ticks}, "
            f"in-doubt released {keeper.released}"
        )
    print(f"  check: {json.dumps(check, ensure_ascii=False)}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"), help="the app role's URL")
    parser.add_argument("--owner-url", default=os.environ.get("MIGRATION_DATABASE_URL"), help="the owner's URL")
    parser.add_argument("--broker", default="redis://127.0.0.1:6379/7")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/6")
    parser.add_argument("--concurrency", type=int, default=50, help="worker threads on the notify queue")
    parser.add_argument("--rate", type=int, default=1000, help="NOTIFY_SEND_RATE for the run (production: 50)")
    parser.add_argument("--send-delay", type=float, default=0.1)
    parser.add_argument("--recipients", type=int, default=0, help="pick this many (default: every bound veteran)")
    parser.add_argument("--kill-at", type=float, default=0.0, help="SIGKILL the worker once this share is sent")
    parser.add_argument("--web-connections", type=int, default=2)
    parser.add_argument("--window", type=int, default=30, help="seconds per web measurement window")
    parser.add_argument("--pause-ms", type=int, default=100, help="think time per connection between requests")
    parser.add_argument("--worker-start", type=float, default=8.0)
    parser.add_argument("--worker-nice", type=int, default=0, help="run the worker at this niceness (web first)")
    parser.add_argument(
        "--fake-nice", type=int, default=0, help="run the fake WeChat at this niceness (it stands for a remote server)"
    )
    parser.add_argument("--timeout", type=int, default=1800)
    parser.add_argument("--fake-port", type=int, default=8711)
    parser.add_argument("--web-port", type=int, default=8712)
    args = parser.parse_args(argv)
    if not args.database_url or not args.owner_url:
        parser.error("set DATABASE_URL (app role) and MIGRATION_DATABASE_URL (owner) of a seeded database")
    run(args)


if __name__ == "__main__":
    main()
