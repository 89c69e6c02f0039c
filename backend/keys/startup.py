"""The startup check (issue 15): refuse to start when the recorded rotation state says a retired key version is
still referenced, the newest version is retired, or rows use a version no key is configured for. It reads the two
small state tables only (never the sealed data), and passes when they do not exist yet (before `flask db upgrade`)."""

from sqlalchemy import inspect
from sqlalchemy.engine import Engine

from backend.keys import keyring


class KeyStateError(RuntimeError):
    pass


def check(app):
    if not app.config.get("PII_STARTUP_CHECK", True) or not app.config.get("SQLALCHEMY_DATABASE_URI"):
        return
    from backend.extensions import db
    from backend.keys.rotation import startup_problems

    with app.app_context():
        ring = keyring.current()
        try:
            if not inspect(db.session.connection()).has_table("pii_key_version"):
                return
            problems = startup_problems(ring, db.session)
        finally:
            db.session.remove()
            for engine in db.engines.values():  # close the one connection: an app may never serve (a CLI, a test)
                if isinstance(engine, Engine):
                    engine.dispose()
    if problems:
        raise KeyStateError("refusing to start: " + "; ".join(problems))
