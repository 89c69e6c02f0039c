"""Celery queues, the beat schedule and the task modules, mixed into Base (config/settings.py re-exports QueueNames)."""

from config.env import env, env_int


class QueueNames:
    """Celery queues; tests/test_queues.py checks that every queue has a worker in the documented command."""

    DEFAULT = "default"
    NOTIFY = "notify"
    IMPORTS = "imports"
    EXPORTS = "exports"  # exports slice (issue 12): long export jobs never hold up the other queues

    @classmethod
    def all(cls):
        return [cls.DEFAULT, cls.NOTIFY, cls.IMPORTS, cls.EXPORTS]


class JobSettings:
    # deploy slice (issue 21): beat runs exactly once. With a broker, beat uses RedBeat: the schedule lives in Redis and
    # the running beat holds a Redis lock (taken at start, renewed on every tick, at most BEAT_MAX_LOOP_INTERVAL apart)
    # that any second beat waits on; if the holder dies, a waiting beat takes over within BEAT_LOCK_TIMEOUT seconds
    # plus one loop interval. Without a broker (the embedded mode) there is no beat at all. See beat_conf().
    CELERY_BEAT_SCHEDULER = "redbeat.RedBeatScheduler"
    BEAT_REDIS_URL = env("BEAT_REDIS_URL")  # unset: REDIS_URL, else the broker
    BEAT_LOCK_TIMEOUT = env_int("BEAT_LOCK_TIMEOUT", 60)
    BEAT_MAX_LOOP_INTERVAL = env_int("BEAT_MAX_LOOP_INTERVAL", 10)
    NOTIFY_QUEUE = {"queue": QueueNames.NOTIFY}  # notifications slice (issue 13): where beat sends the notify jobs
    # Beat runs once; both jobs are idempotent, so hourly runs act once, soon after midnight CST.
    CELERY_BEAT_SCHEDULE = {
        "registration-mark-overdue": {"task": "registration.mark_overdue", "schedule": 3600.0},
        "registration-send-reminders": {"task": "registration.send_reminders", "schedule": 3600.0},
        "travel-mark-overdue": {"task": "travel.mark_overdue", "schedule": 3600.0},
        # phone slice (issue 10): Idempotency-Key rows past their 24 hours
        "idempotency-purge-expired": {"task": "idempotency.purge_expired", "schedule": 3600.0},
        # auditchain slice (issue 10): chain new audit rows and write a signed checkpoint
        "audit-seal": {"task": "audit.seal", "schedule": float(env_int("AUDIT_SEAL_INTERVAL", 15))},
        # tokens slice (issue 10): refresh tokens past their 30 days, and families left empty
        "accounts-purge-expired-tokens": {"task": "accounts.purge_expired_tokens", "schedule": 3600.0},
        # import slice (issue 11): rejected-rows files of import jobs ended more than 24 hours ago
        "veterans-purge-import-files": {"task": "veterans.purge_import_files", "schedule": 3600.0},
        # aggregates slice (issue 12): per-unit figures rolled up into unit_stat; pages show the as-of time
        "figures-rollup": {"task": "figures.rollup", "schedule": float(env_int("FIGURES_ROLLUP_INTERVAL", 600))},
        # exports slice (issue 12): export files past their link lifetime, and jobs stuck past the hard limit
        "exports-purge-expired": {"task": "exports.purge_expired", "schedule": 3600.0},
        # notifications slice (issue 13): scheduled sends that are due, stuck deliveries, the call list
        "notifications-start-due": {"task": "notifications.start_due", "schedule": 30.0, "options": NOTIFY_QUEUE},
        "notifications-watchdog": {"task": "notifications.watchdog", "schedule": 60.0, "options": NOTIFY_QUEUE},
        "notifications-calls": {"task": "notifications.build_call_list", "schedule": 3600.0, "options": NOTIFY_QUEUE},
        # bookings slice (issue 14): slots for each service's booking window; the day-before reminders (idempotent)
        "bookings-generate-slots": {"task": "bookings.generate_slots", "schedule": 3600.0},
        "bookings-send-reminders": {"task": "bookings.send_reminders", "schedule": 900.0},
        "bookings-close-ended": {"task": "bookings.close_ended", "schedule": 3600.0},
        # care slice (issue 16, C1): each station's weekly contact reminder (once per station and CST week)
        "care-weekly-digest": {"task": "care.weekly_digest", "schedule": 21600.0},
        "feedback.hourly": {"task": "feedback.hourly", "schedule": 3600.0},  # issue 20: escalation, rating prompts
        "assessment-aggregate": {"task": "assessment.aggregate", "schedule": 3600.0},  # issue 20: once a CST day
    }
    CELERY_TASK_MODULES = [
        "backend.veterans.tasks",
        "backend.registration.tasks",
        "backend.travel.tasks",
        "backend.idempotency.tasks",  # phone slice (issue 10)
        "backend.audit.tasks",  # auditchain slice (issue 10)
        "backend.accounts.tasks",  # tokens slice (issue 10)
        "backend.figures.tasks",  # aggregates slice (issue 12)
        "backend.exports.tasks",  # exports slice (issue 12)
        "backend.notifications.tasks",  # notifications slice (issue 13)
        "backend.bookings.tasks",  # bookings slice (issue 14)
        "backend.keys.tasks",  # issue 15: key rotation (default queue)
        "backend.care.tasks",  # care slice (issue 16, C1): regular contact
        "backend.pension.payroll_job",  # issue 18, part 3: payroll runs (imports queue)
        "backend.assessment.tasks",  # issue 20: the assessment figures
        "backend.feedback.tasks",  # issue 20: escalation, rating prompts
    ]


def beat_conf(config, broker):
    """The Celery settings of beat for the Flask `config` (a mapping): RedBeat and its lock when a broker is set, none
    otherwise (embedded mode: tasks run eagerly and `run-jobs` replaces beat)."""
    if not broker:
        return {}
    if not config["BEAT_LOCK_TIMEOUT"] > config["BEAT_MAX_LOOP_INTERVAL"] > 0:
        raise RuntimeError("BEAT_LOCK_TIMEOUT must exceed BEAT_MAX_LOOP_INTERVAL (> 0): the lock is renewed each loop")
    return {
        "beat_scheduler": config["CELERY_BEAT_SCHEDULER"],
        "beat_max_loop_interval": config["BEAT_MAX_LOOP_INTERVAL"],
        "redbeat_redis_url": config.get("BEAT_REDIS_URL") or config.get("REDIS_URL") or broker,
        "redbeat_redis_options": {},  # the broker's transport options (visibility_timeout) are not the lock's
        "redbeat_key_prefix": "veterans:beat:",
        "redbeat_lock_timeout": config["BEAT_LOCK_TIMEOUT"],
    }
