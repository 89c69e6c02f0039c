"""notifications slice (issue 13): the delivery pipeline's settings (backend/notifications/), mixed into Base."""

from config.env import env_bool, env_int


class NotifySettings:
    NOTIFY_BATCH_SIZE = env_int("NOTIFY_BATCH_SIZE", 500)  # deliveries per Celery task
    NOTIFY_APPROVAL_THRESHOLD = env_int("NOTIFY_APPROVAL_THRESHOLD", 1000)  # more recipients need a second person
    NOTIFY_CLAIM_SIZE = env_int("NOTIFY_CLAIM_SIZE", 20)  # deliveries claimed and recorded together (issue 21)
    NOTIFY_SEND_RATE = env_int("NOTIFY_SEND_RATE", 50)  # WeChat sends per second, shared by every worker
    NOTIFY_MAX_ATTEMPTS = env_int("NOTIFY_MAX_ATTEMPTS", 5)  # tries on -1, 45011 and timeouts, then failed
    NOTIFY_RETRY_BASE_SECONDS = env_int("NOTIFY_RETRY_BASE_SECONDS", 30)  # backoff: base * 2^(attempt-1)
    NOTIFY_STUCK_SECONDS = env_int("NOTIFY_STUCK_SECONDS", 600)  # the watchdog requeues queued rows untouched this long
    NOTIFY_IN_DOUBT_SECONDS = env_int("NOTIFY_IN_DOUBT_SECONDS", 900)  # a claimed send with no answer nor sent event
    NOTIFY_CALL_AFTER_DAYS = env_int("NOTIFY_CALL_AFTER_DAYS", 3)  # unread this long -> the station's call list
    NOTIFY_FAILED_SEND_CONSUMES = env_bool("NOTIFY_FAILED_SEND_CONSUMES", False)  # wechat.md §8: unconfirmed
    NOTIFY_TASK_SOFT_TIME_LIMIT = env_int("NOTIFY_TASK_SOFT_TIME_LIMIT", 240)  # one batch of 500 at the rate cap
    NOTIFY_TASK_TIME_LIMIT = env_int("NOTIFY_TASK_TIME_LIMIT", 300)
