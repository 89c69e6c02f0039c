"""Reading the permanent log (archive_access_log): per archive and searched across the scope. Read-only: nothing in
the application updates or deletes a row, and the database refuses both (triggers; the app role holds SELECT, INSERT).
"""

from datetime import datetime, time, timedelta

from sqlalchemy import select

from backend.archives.common import get_archive
from backend.archives.models import LOG_EVENTS, Archive, ArchiveAccessLog
from backend.extensions import db
from backend.orgs.scope import require_permission, scoped
from backend.registration.windows import CST
from backend.veterans.models import Veteran


def _cst_start(day):
    return datetime.combine(day, time.min, tzinfo=CST)


def archive_log(*, actor, archive_id, before=None, limit=100):
    """(archive, rows newest first, next_before) for one archive in scope."""
    archive = get_archive(actor=actor, archive_id=archive_id)
    query = select(ArchiveAccessLog).where(ArchiveAccessLog.archive_id == archive.id)
    if before:
        query = query.where(ArchiveAccessLog.id < before)
    rows = db.session.scalars(query.order_by(ArchiveAccessLog.id.desc()).limit(limit + 1)).all()
    return archive, rows[:limit], (rows[limit - 1].id if len(rows) > limit else None)


def search_log(*, actor, event=None, date_from=None, date_to=None, before=None, limit=100):
    """Log rows of every archive in scope, newest first, keyset by id, filtered by event and CST date range:
    (rows of (ArchiveAccessLog, veteran name), next_before)."""
    require_permission(actor, "archives.view")
    # Scoped through the archive: the log's own station_id is frozen at writing (no UPDATE ever), while the archive
    # follows its veteran to a new station (backend/veterans/service.py).
    query = scoped(
        select(ArchiveAccessLog, Veteran.name)
        .join(Archive, Archive.id == ArchiveAccessLog.archive_id)
        .join(Veteran, Veteran.id == Archive.veteran_id),
        actor,
        Archive.station_id,
    )
    if event in LOG_EVENTS:
        query = query.where(ArchiveAccessLog.event == event)
    if date_from:
        query = query.where(ArchiveAccessLog.occurred_at >= _cst_start(date_from))
    if date_to:
        query = query.where(ArchiveAccessLog.occurred_at < _cst_start(date_to + timedelta(days=1)))
    if before:
        query = query.where(ArchiveAccessLog.id < before)
    rows = db.session.execute(query.order_by(ArchiveAccessLog.id.desc()).limit(limit + 1)).all()
    return rows[:limit], (rows[limit - 1][0].id if len(rows) > limit else None)
