"""The embedded default's stand-in for Celery beat (no broker, no beat): a daemon thread of `flask serve` that starts
scheduled notifications when due, runs the delivery watchdog, and hourly rebuilds the call list and the contact
plans (care.weekly_digest)."""

import logging
import threading
import time

logger = logging.getLogger(__name__)


def tick(app, *, with_calls):
    from backend.extensions import db
    from backend.notifications import calls, watchdog

    with app.app_context():
        try:
            watchdog.start_due()
            watchdog.watchdog()
            if with_calls:
                calls.build()
                from backend.care import digest  # care slice (issue 16): plans of new veterans, the weekly digest

                digest.run_weekly()
                from backend.feedback import handling, prompts  # issue 20: overdue cases move up; rating prompts

                handling.escalate_overdue()
                prompts.prompt_pending()
                from backend.assessment.aggregate import nightly  # issue 20: the assessment figures, once a CST day

                nightly(force=False)
        except Exception as error:  # noqa: BLE001 - the next tick tries again; never kill the thread
            logger.error("notifications tick failed: %s", type(error).__name__)
        finally:
            db.session.remove()


def start(app, interval=30, calls_every=3600):
    def loop():
        last_calls = 0.0
        while True:
            time.sleep(interval)
            now = time.monotonic()
            tick(app, with_calls=now - last_calls >= calls_every)
            if now - last_calls >= calls_every:
                last_calls = now

    thread = threading.Thread(target=loop, name="notifications-ticker", daemon=True)
    thread.start()
    return thread
