"""Health checks."""

from sqlalchemy import text

from backend.extensions import db


def check_health():
    """Return {"status", "database"}; the database check is one round trip."""
    db.session.execute(text("SELECT 1"))
    return {"status": "ok", "database": "ok"}
