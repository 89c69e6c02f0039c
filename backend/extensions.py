"""The Flask extensions, created once here and bound in create_app."""

from celery import Celery, Task
from flask_jwt_extended import JWTManager
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import MetaData

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class _SQLAlchemy(SQLAlchemy):
    def _make_engine(self, bind_key, options, app):
        """Every engine gets the idle-only connection check (backend/db.py) instead of pool_pre_ping."""
        from backend.db import install_idle_ping

        engine = super()._make_engine(bind_key, options, app)
        install_idle_ping(engine, app.config.get("DB_PING_IDLE_SECONDS"))
        return engine


# join_transaction_mode lets the test suite wrap each test in an outer transaction on one connection:
# a service's commit() then releases a savepoint instead of ending the test's transaction.
# expire_on_commit=False: a committed object keeps its values, so answering after a commit re-reads nothing
# (lean slice, issue 12). Code that needs the database's view after a commit reloads explicitly.
db = _SQLAlchemy(
    metadata=MetaData(naming_convention=NAMING),
    session_options={"join_transaction_mode": "create_savepoint", "expire_on_commit": False},
)
migrate = Migrate()
jwt = JWTManager()
# One limiter per web app (each binds to its own Flask app); storage is shared Redis in production.
portal_limiter = Limiter(key_func=get_remote_address, default_limits=[])
api_limiter = Limiter(key_func=get_remote_address, default_limits=[])


def celery_init_app(app):
    """Create the Celery app bound to `app` (Flask's examples/celery pattern).

    Without a broker the tasks run in-process (eager) so the embedded default needs no Redis.
    """

    class FlaskTask(Task):
        def __call__(self, *args, **kwargs):
            with app.app_context():
                return self.run(*args, **kwargs)

    from config.jobs import beat_conf
    from config.settings import QueueNames

    broker = app.config.get("CELERY_BROKER_URL")
    celery_app = Celery(app.name, task_cls=FlaskTask, include=app.config.get("CELERY_TASK_MODULES", []))
    celery_app.conf.update(
        broker_url=broker or "memory://",
        result_backend=app.config.get("CELERY_RESULT_BACKEND") or None,
        task_always_eager=not broker,
        task_eager_propagates=True,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_soft_time_limit=app.config["CELERY_TASK_SOFT_TIME_LIMIT"],
        task_time_limit=app.config["CELERY_TASK_TIME_LIMIT"],
        broker_transport_options={"visibility_timeout": app.config["CELERY_VISIBILITY_TIMEOUT"]},
        task_default_queue=QueueNames.DEFAULT,
        beat_schedule=app.config.get("CELERY_BEAT_SCHEDULE", {}),
        timezone="Asia/Shanghai",
        enable_utc=True,
        broker_connection_retry_on_startup=True,
    )
    celery_app.conf.update(beat_conf(app.config, broker))  # deploy slice (issue 21): beat exactly once (RedBeat)
    celery_app.set_default()
    app.extensions["celery"] = celery_app
    return celery_app
