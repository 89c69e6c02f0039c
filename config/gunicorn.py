"""gunicorn settings for the web processes: `gunicorn -c config/gunicorn.py wsgi:application`.

The worker class and count come from the measured table in docs/performance.md (P0, `bench/run.py
--worker-table` at 1M veterans on the 2-core target): gthread with 2 workers x 4 threads served as much as 5 sync
workers at well under half the memory, because requests spend much of their time waiting on PostgreSQL and Redis.
Scale out with more instances rather than more workers per 2-core machine. Every value can be overridden by the
environment (GUNICORN_*), e.g. on a larger machine.

Issue 21 (P9, "every request ends within 10 s"): the bound is DB_STATEMENT_TIMEOUT_MS (8 s in production, web
processes only), which cancels a slow query and answers 503 server.busy, plus the reverse proxy's read timeout for the
client. `timeout` stays 30 s on purpose: under gthread it is the worker's heartbeat, not a per-request limit (a slow
request in one thread does not trip it), and when it does fire it kills every thread of the worker, turning the
other in-flight requests into 5xx. It is the backstop for a wedged worker, so it must stay well above the 8 s query
bound; bench/journeys.py measures the resulting maximum response time under overload (docs/performance.md).
"""

import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "gthread")
workers = int(os.environ.get("GUNICORN_WORKERS", "2"))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
# A worker stuck longer than this is killed and replaced; no page of the portal comes near it (docs/performance.md).
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 30
keepalive = 5
# A worker is replaced after this many requests (with jitter), bounding slow memory growth.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "5000"))
max_requests_jitter = 500
accesslog = None  # off: access lines carry query strings, which may hold search terms (as in backend/logs.py)
