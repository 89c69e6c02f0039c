"""gunicorn settings for the web processes: `gunicorn -c config/gunicorn.py wsgi:application`.

The worker class and count come from the measured table in docs/performance.md (P0, `bench/run.py
--worker-table` at 1M veterans on the 2-core target): gthread with 2 workers x 4 threads served as much as 5 sync
workers at well under half the memory, because requests spend much of their time waiting on PostgreSQL and Redis.
Scale out with more instances rather than more workers per 2-core machine. Every value can be overridden by the
environment (GUNICORN_*), e.g. on a larger machine.
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
