"""The composed web application: the portal at / and the mini program API at /api. Also exposes Celery.

gunicorn serves `wsgi:application`; a worker runs `celery -A backend.worker worker`. Serving needs APP_ENV chosen
explicitly (production, or development for a local trial as `make run` does): without it this module refuses to load.
"""

from werkzeug.middleware.dispatcher import DispatcherMiddleware

from admin_portal import create_app as create_portal
from config.settings import require_app_env
from miniprogram_api import create_app as create_api


def create_application(config=None):
    portal = create_portal(config)
    api = create_api(config)
    return DispatcherMiddleware(portal, {"/api": api}), portal, api


require_app_env("gunicorn (wsgi.py)")
application, portal_app, api_app = create_application()
celery = portal_app.extensions["celery"]
