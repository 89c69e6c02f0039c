"""Key rotation: re-seal every sealed value and recompute every keyed index under the newest key version, in id
batches, resumable (a progress row per column holds the cursor), audited; then retire an old version.

Each batch is one transaction: the rows' new values and the cursor commit together, so a killed job resumes where it
stopped. An UPDATE names the old value (`WHERE id = :id AND col = :old`), so a concurrent edit is never overwritten.
The census (which header each value carries) is recorded per column; the startup check reads only that record.
"""

import time
from dataclasses import dataclass, field

from flask import current_app
from sqlalchemy import delete, func, select, text, update

from backend import pii
from backend.audit import service as audit
from backend.db import after_commit, transaction, utcnow
from backend.errors import PermissionDenied
from backend.extensions import db
from backend.keys import keyring
from backend.keys.columns import SEALED, UNRECOVERABLE
from backend.keys.models import PiiKeyVersion, PiiRotation


class RotationRefused(RuntimeError):
    """A retirement or start the state does not allow; the message is for people (Chinese)."""


PERMISSION = "pii.keys"


def authorize(actor):
    """Keys are system-wide: a staff member needs pii.keys at a root unit; the CLI and jobs act as SystemActor.

    :raises PermissionDenied: otherwise (audited by the portal's error handler)."""
    if isinstance(actor, audit.SystemActor):
        return
    if not actor.can(PERMISSION) or actor.org_unit.parent_id is not None:
        raise PermissionDenied(details={"permission": PERMISSION, "reason": "root_unit_only"})


def _table(name):
    return db.metadata.tables[name]


def _token(spec, value):
    return value.decode() if spec.binary and value is not None else value


def _census_key(token):
    letter, version = pii.header_of(token)
    return f"{'A' if letter == pii.LEGACY else letter}{version}"


def _index_key(stored):
    letter, version = pii.header_of(stored)
    return f"{'H' if letter == pii.LEGACY else letter}{version}"


def _progress(table, column, target):
    row = db.session.scalars(
        select(PiiRotation).where(PiiRotation.table_name == table, PiiRotation.column_name == column)
    ).first()
    if row is None:
        row = PiiRotation(table_name=table, column_name=column, target=target, last_id=0, resealed=0, census={})
        db.session.add(row)
        db.session.flush()
    return row


def census(spec):
    """{header: count} over the column's values and its index values (a full read, for the job and retirement)."""
    t, counts = _table(spec.table), {}
    cols = [t.c[spec.column]] + ([t.c[spec.index]] if spec.index else [])
    query = select(*cols).where(t.c[spec.column].is_not(None))
    if spec.where:
        query = query.where(text(spec.where))
    for row in db.session.execute(query.execution_options(yield_per=2000)):
        key = _census_key(_token(spec, row[0]))
        counts[key] = counts.get(key, 0) + 1
        if spec.index and row[1] is not None:
            key = _index_key(row[1])
            counts[key] = counts.get(key, 0) + 1
    return counts


def _unrecoverable_census(table, column):
    counts = {}
    for (value,) in db.session.execute(select(_table(table).c[column])):
        counts[_index_key(value)] = counts.get(_index_key(value), 0) + 1
    return counts


def _aim(ring, *, restart):
    """Point every column at the newest header: a column aimed elsewhere (or, on `restart`, finished) starts over."""
    for spec in SEALED:
        row = _progress(spec.table, spec.column, ring.seal_header)
        if row.target != ring.seal_header or (restart and row.finished_at is not None):
            row.target, row.last_id, row.resealed, row.finished_at = ring.seal_header, 0, 0, None
            row.started_at = utcnow()


def start(*, actor):
    """Aim every column at the newest header and enqueue the job (after commit). Returns the target header."""
    from backend import tasks as task_queue
    from backend.keys import tasks

    authorize(actor)
    ring = keyring.current()
    with transaction():
        _aim(ring, restart=True)
        audit.record(actor=actor, action="pii.rotation_started", details={"target": ring.seal_header})
        after_commit(task_queue.enqueue, tasks.rotate_keys)
    return ring.seal_header


def _reseal_row(spec, row, ring):
    """The new values of one row, or None when it is current already."""
    token = _token(spec, row[1])
    stale_value = not pii.is_current(token, ring)
    stale_index = bool(spec.index) and not pii.index_is_current(row[2], ring)
    if not (stale_value or stale_index):
        return None
    context = spec.context_for(row)
    plain = pii.decrypt(token, context=context)
    values = {}
    if stale_value:
        sealed = pii.encrypt(plain, context=context)
        values[spec.column] = sealed.encode() if spec.binary else sealed
    if stale_index:
        values[spec.index] = pii.blind_index(plain, context=spec.index_context)
    return values


def _batch(spec, size, ring):
    """One batch of one column in one transaction. Returns (rows looked at, finished)."""
    t = _table(spec.table)
    with transaction() as session:
        progress = _progress(spec.table, spec.column, ring.seal_header)
        progress = session.get(PiiRotation, progress.id, with_for_update=True, populate_existing=True)
        if progress.finished_at is not None:
            return 0, True
        cols = [t.c.id, t.c[spec.column]] + ([t.c[spec.index]] if spec.index else [])
        query = select(*cols).where(t.c.id > progress.last_id, t.c[spec.column].is_not(None))
        if spec.where:
            query = query.where(text(spec.where))
        rows = session.execute(query.order_by(t.c.id).limit(size)).all()
        for row in rows:
            values = _reseal_row(spec, row, ring)
            if values:
                guard = [t.c.id == row[0], t.c[spec.column] == row[1]]
                progress.resealed += session.execute(update(t).where(*guard).values(**values)).rowcount
        if rows:
            progress.last_id = rows[-1][0]
        if len(rows) < size:
            progress.finished_at = utcnow()
            progress.census, progress.census_at = census(spec), utcnow()
        return len(rows), progress.finished_at is not None


@dataclass
class RunResult:
    rows: int = 0
    finished: bool = False
    columns: dict = field(default_factory=dict)


def run(*, batch=None, seconds=None, actor=None):
    """Work through every column until done or `seconds` have passed; safe to run again (it resumes)."""
    ring = keyring.current()
    batch = batch or current_app.config.get("PII_ROTATION_BATCH", 500)
    deadline = time.monotonic() + seconds if seconds else None
    result = RunResult()
    with transaction():
        _aim(ring, restart=False)
    for spec in SEALED:
        done = False
        while not done:
            count, done = _batch(spec, batch, ring)
            result.rows += count
            result.columns[f"{spec.table}.{spec.column}"] = result.columns.get(f"{spec.table}.{spec.column}", 0) + count
            if deadline and time.monotonic() > deadline and not done:
                return result
    with transaction():
        for table, column, _ in UNRECOVERABLE:
            row = _progress(table, column, ring.index_header)
            row.census, row.census_at, row.finished_at = _unrecoverable_census(table, column), utcnow(), utcnow()
        audit.record(
            actor=actor or audit.SystemActor(label="pii.rotate_keys"),
            action="pii.rotation_finished",
            details={"target": ring.seal_header, "rows": result.rows},
        )
    result.finished = True
    return result


def referenced_versions(rows=None):
    """{version: [table.column, ...]} from the recorded census (cheap: no scan of the data)."""
    out = {}
    for row in rows if rows is not None else db.session.scalars(select(PiiRotation)):
        for header, count in (row.census or {}).items():
            if count:
                out.setdefault(int(header[1:]), []).append(f"{row.table_name}.{row.column_name}")
    return out


def retire(version, *, actor):
    """Record `version` as retired after a fresh census finds no value under it (unused recovery codes under it are
    deleted: they cannot be re-keyed). Refused for a configured newest version or one still referenced."""
    authorize(actor)
    ring = keyring.current()
    if version == ring.newest.version:
        raise RotationRefused("最新版本的密钥正在使用，不能退役")
    with transaction() as session:
        if session.get(PiiKeyVersion, version) is not None:
            raise RotationRefused(f"版本 {version} 已退役")
        still = []
        for spec in SEALED:
            row = _progress(spec.table, spec.column, ring.seal_header)
            row.census, row.census_at = census(spec), utcnow()
            if any(int(h[1:]) == version and n for h, n in row.census.items()):
                still.append(spec.label or f"{spec.table}.{spec.column}")
        if still:
            raise RotationRefused(f"仍有数据使用版本 {version}：{'、'.join(still)}；请先完成密钥轮换")
        dropped = 0
        for table, column, _ in UNRECOVERABLE:
            t = _table(table)
            doomed = [
                row_id
                for row_id, value in session.execute(select(t.c.id, t.c[column]))
                if pii.version_of(value) == version
            ]
            if doomed:
                dropped += session.execute(delete(t).where(t.c.id.in_(doomed))).rowcount
            row = _progress(table, column, ring.index_header)
            row.census, row.census_at = _unrecoverable_census(table, column), utcnow()
        session.add(PiiKeyVersion(version=version, retired_by_id=getattr(actor, "id", None)))
        audit.record(
            actor=actor,
            action="pii.version_retired",
            details={"version": version, "recovery_codes_deleted": dropped},
        )
    return dropped


def startup_problems(ring, session=None):
    """Why this configuration must not start, from the recorded state only."""
    session = session or db.session
    retired = set(session.scalars(select(PiiKeyVersion.version)))
    referenced = referenced_versions(session.scalars(select(PiiRotation)).all())
    problems = []
    if ring.newest.version in retired:
        problems.append(f"the newest configured key version {ring.newest.version} is retired")
    for version in sorted(retired & set(referenced)):
        problems.append(f"retired key version {version} is still referenced by {', '.join(referenced[version])}")
    for version in sorted(set(referenced) - set(ring.versions) - retired):
        problems.append(f"key version {version} is referenced by {', '.join(referenced[version])} but not configured")
    return problems


@dataclass
class ColumnStatus:
    label: str
    name: str
    target: str | None
    last_id: int
    max_id: int
    resealed: int
    finished_at: object
    census: dict
    census_at: object

    @property
    def percent(self):
        if self.finished_at is not None:
            return 100
        return int(100 * self.last_id / self.max_id) if self.max_id else 0


def status():
    """What the portal page and `flask pii-status` show: versions (never keys), per-column progress and census."""
    ring = keyring.current()
    rows = {(r.table_name, r.column_name): r for r in db.session.scalars(select(PiiRotation))}
    columns = []
    for spec in SEALED:
        row = rows.get((spec.table, spec.column))
        max_id = db.session.scalar(select(func.max(_table(spec.table).c.id))) or 0
        columns.append(
            ColumnStatus(
                spec.label,
                f"{spec.table}.{spec.column}",
                row.target if row else None,
                row.last_id if row else 0,
                max_id,
                row.resealed if row else 0,
                row.finished_at if row else None,
                row.census if row else {},
                row.census_at if row else None,
            )
        )
    retired = db.session.scalars(select(PiiKeyVersion).order_by(PiiKeyVersion.version)).all()
    return {
        "cipher": ring.cipher,
        "seal_header": ring.seal_header,
        "index_header": ring.index_header,
        "versions": sorted(ring.versions, reverse=True),
        "newest": ring.newest.version,
        "columns": columns,
        "retired": retired,
        "referenced": referenced_versions(list(rows.values())),
    }
