"""The backend: models, services, the WeChat adapter and background jobs. create_app binds the extensions."""

from flask import Flask

from config.settings import ROOT, get_config


def create_app(config=None):
    """Build the base Flask app: configuration, extensions, models, CLI. Registers no web routes.

    :param config: a configuration class or object; defaults to the one APP_ENV names.
    """
    config = config or get_config()
    if hasattr(config, "validate"):
        config.validate()
    app = Flask("backend", instance_path=str(ROOT / "instance"), static_folder=None)
    app.config.from_object(config)

    from backend import models  # noqa: F401  (registers every table on the metadata)
    from backend.extensions import celery_init_app, db, migrate
    from backend.logs import configure_logging

    configure_logging(app)
    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True, compare_type=True)
    celery_init_app(app)

    from backend import cli

    cli.init_app(app)
    from backend.keys.startup import check as check_key_state  # issue 15: a retired key still referenced

    check_key_state(app)
    return app
