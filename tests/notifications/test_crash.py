"""S33: real Celery workers on Redis are SIGKILLed at random points mid-send, several times; then WeChat's sent events
are pushed and the watchdog runs until the notification is done. Pass: 0 missed and 0 duplicate recipients.

[PG, Redis, Celery]: its own committed database, the fake WeChat as an HTTP server thread with a per-send delay, and
`celery -A backend.worker worker -Q notify` subprocesses with a short visibility timeout and time limits.
"""

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select

from config import settings
from tests import conftest as harness
from tests.conftest import dispose_engines, own_database
from tests.notifications.pii import leaks

pytestmark = [pytest.mark.postgres, pytest.mark.redis]
ROOT = Path(__file__).resolve().parents[2]
RECIPIENTS, WITH_CREDIT, KILLS, DEADLINE = 300, 250, 5, 60
LIMITS = {  # visibility timeout > hard limit > soft limit, small enough to see redeliveries within the test
    "CELERY_VISIBILITY_TIMEOUT": 8,
    "CELERY_TASK_SOFT_TIME_LIMIT": 5,
    "CELERY_TASK_TIME_LIMIT": 6,
    "NOTIFY_TASK_SOFT_TIME_LIMIT": 5,
    "NOTIFY_TASK_TIME_LIMIT": 6,
    "EXPORT_TASK_SOFT_TIME_LIMIT": 5,
    "EXPORT_TASK_TIME_LIMIT": 6,
    "NOTIFY_BATCH_SIZE": 25,
    "NOTIFY_SEND_RATE": 1000,
}


@pytest.fixture(scope="module")
def fake():
    from backend.wechat.fake_server import FakeWechat, serve_in_thread

    fake = FakeWechat()
    fake.send_delay = 0.04
    server, base = serve_in_thread(fake=fake)
    fake.base = base
    yield fake
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def crash_app(fake):
    import redis

    from backend import create_app

    redis_url = harness.test_redis_url()  # this xdist worker's db: its broker queue and the flush stay its own
    redis.Redis.from_url(redis_url).flushdb()  # no task left over from an earlier run
    overrides = {
        **LIMITS,
        "CELERY_BROKER_URL": redis_url,
        "REDIS_URL": redis_url,
        "WECHAT_API_BASE": fake.base,
        "NOTIFY_STUCK_SECONDS": 2,
        "NOTIFY_IN_DOUBT_SECONDS": 3,
    }
    app = own_database("crash", lambda config: create_app(type("CrashConfig", (config,), overrides)), pool_size=3)
    yield app
    dispose_engines(app)


def _worker(app, fake, log):
    env = {
        **os.environ,
        **{name: str(value) for name, value in LIMITS.items()},
        "APP_ENV": "development",
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "CELERY_BROKER_URL": app.config["CELERY_BROKER_URL"],
        "REDIS_URL": app.config["REDIS_URL"],
        "WECHAT_API_BASE": fake.base,
        "PII_ENCRYPTION_KEY": settings.TEST_PII_ENCRYPTION_KEY,
        "PII_HMAC_KEY": settings.TEST_PII_HMAC_KEY,
        "AUDIT_CHECKPOINT_FILE": os.path.join(os.path.dirname(log.name), "crash-audit.log"),  # the test's tmp_path
    }
    command = [sys.executable, "-m", "celery", "-A", "backend.worker", "worker", "-Q", "notify", "-c", "4"]
    command += ["--without-gossip", "--without-mingle", "--without-heartbeat", "-l", "WARNING"]
    return subprocess.Popen(command, env=env, cwd=ROOT, start_new_session=True, stdout=log, stderr=subprocess.STDOUT)


def _kill(worker):
    try:
        os.killpg(worker.pid, signal.SIGKILL)  # the main process and its pool children at once
    except ProcessLookupError:
        pass
    worker.wait(timeout=10)


def _setup(app, fake):
    from backend.accounts.models import WechatAccount
    from backend.db import transaction, utcnow
    from backend.extensions import db
    from backend.notifications.events import notify
    from backend.subscriptions.models import SubscriptionCredit
    from tests.factories import build_world, create_veteran

    world = build_world()
    vets = [create_veteran(station=world.x1) for _ in range(RECIPIENTS)]
    openids = {v.id: f"o-crash-{v.id}" for v in vets}
    credited = {openids[v.id] for v in vets[:WITH_CREDIT]}
    with transaction():
        now = utcnow()
        db.session.execute(
            insert(WechatAccount), [{"openid": o, "veteran_id": v, "bound_at": now} for v, o in openids.items()]
        )
        db.session.execute(
            insert(SubscriptionCredit), [{"openid": o, "template_id": "TPL_CARE", "credits": 1} for o in credited]
        )
    fake.credits.update({(o, "TPL_CARE"): 1 for o in credited})
    nid = notify("care", list(openids), title="节日问候", body="{姓名}同志：节日快乐。").id
    return nid, openids, credited


def _settled(app, nid):
    from backend.extensions import db
    from backend.notifications.models import Delivery, Notification

    busy = db.session.scalar(
        select(func.count()).where(Delivery.notification_id == nid, Delivery.status.in_(("queued", "sending")))
    )
    status = db.session.scalar(select(Notification.status).where(Notification.id == nid))
    db.session.rollback()
    return busy == 0 and status == "done"


def test_sigkilled_workers_miss_nobody_and_send_nobody_twice(crash_app, fake, tmp_path):
    from backend.extensions import db
    from backend.inbox.models import InboxMessage
    from backend.notifications import tasks, watchdog
    from backend.notifications.models import Delivery
    from backend.subscriptions.service import handle_event

    started = time.monotonic()
    log = open(tmp_path / "worker.log", "w")  # noqa: SIM115 - shared by every worker, closed at the end
    rng = random.Random(os.environ.get("CRASH_SEED"))
    with crash_app.app_context():
        nid, openids, credited = _setup(crash_app, fake)
        tasks.enqueue_deliver(nid)
        db.session.remove()
    kills = 0
    worker = None
    try:
        for _ in range(KILLS):
            worker = _worker(crash_app, fake, log)
            before = len(fake.sent)
            wait_until = time.monotonic() + 15
            while len(fake.sent) == before and time.monotonic() < wait_until:  # sending has begun
                time.sleep(0.05)
            time.sleep(rng.uniform(0.0, 0.6))  # a random point mid-send
            _kill(worker)
            kills += 1
        worker = _worker(crash_app, fake, log)
        deadline, released, in_doubt = time.monotonic() + DEADLINE, 0, 0
        with crash_app.app_context():
            in_doubt = db.session.scalar(
                select(func.count()).where(Delivery.notification_id == nid, Delivery.status == "sending")
            )
            while time.monotonic() < deadline:
                for event in fake.drain_events():  # WeChat's pushes reach the push endpoint
                    handle_event(event)
                released += watchdog.watchdog()["in_doubt"]
                db.session.remove()
                if _settled(crash_app, nid):
                    break
                time.sleep(0.5)
            for event in fake.drain_events():
                handle_event(event)
            rows = db.session.execute(
                select(Delivery.veteran_id, Delivery.status).where(Delivery.notification_id == nid)
            )
            statuses = Counter(status for _, status in rows)
            inbox = Counter(
                db.session.scalars(select(InboxMessage.veteran_id).where(InboxMessage.notification_id == nid))
            )
            settled = _settled(crash_app, nid)
    finally:
        if worker is not None:
            _kill(worker)
        log.close()
    sends = Counter(s["touser"] for s in fake.sent)
    elapsed = time.monotonic() - started
    print(
        f"crash test: {kills} kills, {in_doubt} in doubt ({released} released), {len(fake.sent)} sends, {elapsed:.0f} s"
    )
    assert settled, (tmp_path / "worker.log").read_text()[-3000:]
    assert inbox == Counter(dict.fromkeys(openids, 1))  # every recipient: exactly one inbox entry
    assert sends == Counter(dict.fromkeys(credited, 1))  # every credit holder: exactly one send; 0 missed, 0 twice
    assert statuses == Counter({"sent": WITH_CREDIT, "skipped": RECIPIENTS - WITH_CREDIT})
    assert all(fake.credits[(o, "TPL_CARE")] == 0 for o in credited)
    assert leaks(fake.payloads) == []
    assert elapsed < 90
