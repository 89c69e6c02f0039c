"""Scheduled jobs: mark overdue registrations when a window closes; remind veterans at the opening and two weeks
before the close, once each. Both are idempotent: running them again changes nothing.

Both are set-based, so their cost follows the rows they change, not the size of the registry: each unit's window is
computed once per run (windows.unit_windows), units sharing a window act together in SQL, and the work goes in short
transactions (BATCH drafts, or ID_RANGE veteran ids, each) of `UPDATE … RETURNING` / `INSERT … SELECT … ON CONFLICT
DO NOTHING RETURNING`, followed by one bulk insert of the timeline events or inbox messages for exactly the returned
rows. No ORM object is loaded for a veteran or registration the run does not change.
"""

from collections import defaultdict
from datetime import timedelta

from sqlalchemy import exists, false, func, insert, literal, select, true, update
from sqlalchemy.dialects import postgresql, sqlite

from backend.audit import service as audit_service
from backend.audit.service import SystemActor
from backend.bulk import id_in
from backend.db import transaction, utcnow
from backend.extensions import db
from backend.inbox.service import post_messages
from backend.orgs.models import OrgUnit
from backend.registration.models import Registration, RegistrationEvent, RegistrationReminder
from backend.registration.windows import today_cst, unit_windows
from backend.veterans.models import Veteran

BATCH = 1000  # drafts marked per transaction
ID_RANGE = 10_000  # veteran ids per transaction for the set-based inserts
SYSTEM = SystemActor()

REG = Registration.__table__
VET = Veteran.__table__
REMINDER = RegistrationReminder.__table__
EVENT = RegistrationEvent.__table__


def _unit_filter(unit_ids, every_unit):
    """A WHERE term on a unit_id column: none when the units are all units, else the id list."""
    if len(unit_ids) == len(every_unit):
        return lambda column: true()
    if not unit_ids:
        return lambda column: false()
    ids = sorted(unit_ids)
    return lambda column: column.in_(ids)


def _id_ranges():
    """[lo, hi) veteran id ranges of ID_RANGE ids covering every active veteran."""
    lo, hi = db.session.execute(select(func.min(VET.c.id), func.max(VET.c.id)).where(VET.c.status == "active")).one()
    if lo is None:
        return []
    return [(start, start + ID_RANGE) for start in range(lo, hi + 1, ID_RANGE)]


def _within(column, lo, hi):
    """The id range repeated on a NOT EXISTS subquery's veteran_id: whatever join the planner picks, it reads only
    the range's slice of the (veteran_id, …) unique index, never the whole table (found by EXPLAIN at 1M)."""
    return column >= lo, column < hi


def _insert(table):
    dialect = db.session.get_bind().dialect.name
    if dialect not in ("postgresql", "sqlite"):
        raise RuntimeError(f"set-based jobs need INSERT … ON CONFLICT (PostgreSQL or SQLite), not {dialect}")
    return (postgresql if dialect == "postgresql" else sqlite).insert(table)


def _common_path(paths):
    """The deepest unit path every path lies under: the audit row is visible there and above."""
    parts = [p.strip("/").split("/") for p in paths]
    common = []
    for level in zip(*parts, strict=False):
        if len(set(level)) != 1:
            break
        common.append(level[0])
    return "/" + "".join(f"{part}/" for part in common) if common else None


def _record_marks(rows, *, year, step, paths, now):
    """The timeline event of every registration marked (one INSERT … SELECT), and one audit row for the batch
    stating the count (a per-row audit would double the job's writes; each registration's own timeline keeps the
    detail)."""
    if not rows:
        return
    columns = ["registration_id", "occurred_at", "actor_type", "actor_label", "channel", "action", "details"]
    source = select(
        REG.c.id,
        literal(now, EVENT.c.occurred_at.type),
        literal("system"),
        literal(SYSTEM.label),
        literal("system"),
        literal("overdue"),
        literal({}, EVENT.c.details.type),
    ).where(id_in(REG.c.id, [reg_id for reg_id, _ in rows]))
    db.session.execute(insert(EVENT).from_select(columns, source))
    audit_service.record(
        actor=SYSTEM,
        action="registration.overdue",
        object_type="registration",
        org_path=_common_path({paths[unit_id] for _, unit_id in rows}),
        details={"year": year, "count": len(rows), "step": step, "first_id": rows[0][0], "last_id": rows[-1][0]},
    )


def _mark_drafts(year, in_closed, paths):
    """Drafts of the year in closed units become overdue, BATCH at a time. A draft locked by an on-site entry right
    now is skipped (SKIP LOCKED) and looked at again by the next run."""
    marked, last = 0, 0
    while True:
        with transaction():
            now = utcnow()
            picked = (
                select(REG.c.id)
                .where(
                    REG.c.year == year,
                    REG.c.status == "draft",
                    REG.c.id > last,
                    # the veteran's own unit decides the window (as window_for does), and only active veterans
                    exists().where(VET.c.id == REG.c.veteran_id, VET.c.status == "active", in_closed(VET.c.unit_id)),
                )
                .order_by(REG.c.id)
                .limit(BATCH)
                .with_for_update(skip_locked=True)
            )
            rows = db.session.execute(
                update(REG)
                .where(REG.c.id.in_(picked.scalar_subquery()), REG.c.status == "draft")
                .values(status="overdue", updated_at=now, version_id=REG.c.version_id + 1)
                .returning(REG.c.id, REG.c.unit_id)
            ).all()
            rows.sort()
            _record_marks(rows, year=year, step="drafts", paths=paths, now=now)
        if not rows:
            return marked
        marked += len(rows)
        last = rows[-1][0]


def _insert_missing(year, in_closed, paths):
    """An empty overdue row for every active veteran of a closed unit with no registration this year, ID_RANGE
    veteran ids per transaction. The row's content_sealed stays NULL (read as {}: nothing saved yet), so no per-row
    encryption is needed. A row entered on-site meanwhile wins: ON CONFLICT DO NOTHING waits for it, then skips."""
    marked = 0
    columns = ["veteran_id", "unit_id", "year", "status", "form_version", "channel", "return_reasons", "flagged"]
    columns += ["created_at", "updated_at", "version_id"]
    for lo, hi in _id_ranges():
        with transaction():
            now = utcnow()
            stamp = literal(now, REG.c.created_at.type)
            source = select(
                VET.c.id,
                VET.c.unit_id,
                literal(year),
                literal("overdue"),
                literal(1),
                literal("system"),
                literal({}, REG.c.return_reasons.type),
                literal(False),
                stamp,
                stamp,
                literal(1),
            ).where(
                VET.c.id >= lo,
                VET.c.id < hi,
                VET.c.status == "active",
                in_closed(VET.c.unit_id),
                ~exists().where(REG.c.veteran_id == VET.c.id, REG.c.year == year, *_within(REG.c.veteran_id, lo, hi)),
            )
            statement = (
                _insert(REG)
                .from_select(columns, source)
                .on_conflict_do_nothing(index_elements=["veteran_id", "year"])
                .returning(REG.c.id, REG.c.unit_id)
            )
            rows = sorted(db.session.execute(statement).all())
            _record_marks(rows, year=year, step="missing", paths=paths, now=now)
        marked += len(rows)
    return marked


def mark_overdue(*, now=None):
    """Veterans whose window has closed with nothing submitted become overdue (listed for staff follow-up): their
    drafts are marked, and an empty row is added for those with none. Returns how many were marked. Safe against
    concurrent on-site entry (locked drafts are skipped, a missing row is inserted only if still missing) and
    idempotent (a second run finds nothing)."""
    today = today_cst(now)
    year, windows = today.year, unit_windows(today.year)
    closed = {unit_id for unit_id, window in windows.items() if today > window.closes_on}
    if not closed:
        return 0  # every window is still open (or not yet open): nothing to scan
    in_closed = _unit_filter(closed, windows)
    paths = dict(db.session.execute(select(OrgUnit.id, OrgUnit.path)).all())
    marked = _mark_drafts(year, in_closed, paths) + _insert_missing(year, in_closed, paths)
    from backend.pension.states import suspend_overdue_safely  # issue 18: registration_overdue suspends pay

    suspend_overdue_safely(year, now=now)  # never fails the marks above (already committed)
    return marked


REMINDERS = {
    "opening": ("年度确认登记已开始", "{year}年度确认登记已开始，请在{closes}前通过小程序提交，或到服务站现场办理。"),
    "closing": ("年度确认登记即将截止", "{year}年度确认登记将于{closes}截止，您尚未提交，请尽快办理。"),
}


def _remind(year, kind, window, in_group, lo, hi):
    """One reminder row per veteran of the group in [lo, hi) with nothing submitted and no reminder of this kind yet,
    then their inbox messages in one bulk insert. Returns the count."""
    now = utcnow()
    source = select(VET.c.id, literal(year), literal(kind), literal(now, REMINDER.c.sent_at.type)).where(
        VET.c.id >= lo,
        VET.c.id < hi,
        VET.c.status == "active",
        in_group(VET.c.unit_id),
        ~exists().where(
            REG.c.veteran_id == VET.c.id,
            REG.c.year == year,
            REG.c.status.in_(("submitted", "approved", "returned")),
            *_within(REG.c.veteran_id, lo, hi),
        ),
        ~exists().where(
            REMINDER.c.veteran_id == VET.c.id,
            REMINDER.c.year == year,
            REMINDER.c.kind == kind,
            *_within(REMINDER.c.veteran_id, lo, hi),
        ),
    )
    statement = (
        _insert(REMINDER)
        .from_select(["veteran_id", "year", "kind", "sent_at"], source)
        .on_conflict_do_nothing(index_elements=["veteran_id", "year", "kind"])
        .returning(REMINDER.c.veteran_id)
    )
    veteran_ids = sorted(db.session.scalars(statement).all())
    title, body = REMINDERS[kind]
    text = body.format(year=year, closes=f"{window.closes_on:%m月%d日}")
    rows = (
        {
            "veteran_id": v,
            "kind": f"registration.{kind}",
            "title": title,
            "body": text,
            "link": "pages/registration/index",
        }
        for v in veteran_ids
    )
    # notifications slice (issue 13): the WeChat card's values, the same for everyone (no personal data)
    post_messages(rows, values={"结果": "待办理", "截止日期": f"{window.closes_on:%Y年%m月%d日}"})
    return len(veteran_ids)


def send_reminders(*, now=None):
    """Remind veterans with nothing submitted: once when the window opens, once two weeks before it closes. Units
    are grouped by their window (opens, closes); each group acts in SQL with its unit list. Returns how many were
    sent."""
    today = today_cst(now)
    year, windows = today.year, unit_windows(today.year)
    groups, window_of = defaultdict(set), {}
    for unit_id, window in windows.items():
        if window.is_open(today):
            groups[(window.opens_on, window.closes_on)].add(unit_id)
            window_of[(window.opens_on, window.closes_on)] = window
    if not groups:
        return 0
    plans = []
    for key, unit_ids in groups.items():
        window = window_of[key]
        kind = "closing" if today >= window.closes_on - timedelta(days=14) else "opening"
        plans.append((kind, window, _unit_filter(unit_ids, windows)))
    sent = 0
    for lo, hi in _id_ranges():
        with transaction():
            for kind, window, in_group in plans:
                sent += _remind(year, kind, window, in_group, lo, hi)
    return sent
