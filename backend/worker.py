"""Celery entry point: `celery -A backend.worker worker -Q default,notify,imports,exports` (and `beat` once).

Needs APP_ENV chosen explicitly: without it this module refuses to load (a worker must never fall back to the
development configuration).
"""

from backend import create_app
from backend.logs import install_celery_log_redaction
from config.settings import require_app_env

require_app_env("the Celery worker (backend.worker)")
flask_app = create_app()
celery_app = flask_app.extensions["celery"]
install_celery_log_redaction()
