"""Issue 12, jobs slice: the overdue and reminder jobs are set-based. Batching boundaries, idempotency, per-unit
windows, statements O(batches) not O(veterans), the timeline, the audit rows and the inbox rows they write."""

from datetime import date

import pytest
from freezegun import freeze_time
from sqlalchemy import func, select

from backend.audit.models import AuditLog
from backend.db import transaction
from backend.extensions import db
from backend.inbox.models import InboxMessage
from backend.orgs.models import OrgUnit
from backend.registration import jobs, windows
from backend.registration.models import Registration, RegistrationEvent, RegistrationReminder
from tests.factories import create_veteran
from tests.helpers import sql_statements
from tests.registration.helpers import FULL

AFTER_CLOSE = "2027-04-02 02:00:00"


def _registration(veteran, status):
    with transaction():
        db.session.add(
            Registration(
                veteran_id=veteran.id,
                unit_id=veteran.unit_id,
                year=2027,
                status=status,
                content=FULL,
                return_reasons={},
            )
        )


def _statuses():
    return dict(db.session.execute(select(Registration.veteran_id, Registration.status)).all())


def _events():
    return db.session.scalar(
        select(func.count()).select_from(RegistrationEvent).where(RegistrationEvent.action == "overdue")
    )


def test_batches_smaller_than_the_work_mark_everything_once(world, monkeypatch):
    monkeypatch.setattr(jobs, "BATCH", 2)
    monkeypatch.setattr(jobs, "ID_RANGE", 3)
    drafted = [create_veteran(station=world.x1) for _ in range(5)]
    quiet = [create_veteran(station=world.x1, grid=world.x1_grid) for _ in range(4)]
    done = create_veteran(station=world.y1)
    for veteran in drafted:
        _registration(veteran, "draft")
    _registration(done, "submitted")
    before = {r.veteran_id: r.version_id for r in db.session.scalars(select(Registration))}
    with freeze_time(AFTER_CLOSE):
        assert jobs.mark_overdue() == 9
        assert jobs.mark_overdue() == 0  # idempotent
    statuses = _statuses()
    assert all(statuses[v.id] == "overdue" for v in drafted + quiet) and statuses[done.id] == "submitted"
    assert _events() == 9
    db.session.expire_all()
    for reg in db.session.scalars(select(Registration).where(Registration.status == "overdue")):
        assert reg.channel in ("system", "online") and reg.year == 2027
        if reg.veteran_id in before:  # a marked draft: its version moved on (reviewers' expected_version checks)
            assert reg.version_id == before[reg.veteran_id] + 1 and reg.content == FULL
        else:  # an empty row: no ciphertext, read as nothing saved
            assert reg.content_sealed is None and reg.content == {} and reg.unit_id is not None
    audits = db.session.scalars(select(AuditLog).where(AuditLog.action == "registration.overdue")).all()
    assert sum(a.details["count"] for a in audits) == 9 and len(audits) < 9  # one per batch, not per row
    assert all(a.org_path and a.org_path.startswith(world.x1.path) for a in audits)


def test_per_unit_windows_one_unit_closed_one_open(world):
    windows.set_window(actor=world.sys_admin, year=2027, closes_on=date(2027, 4, 30), unit_id=world.x.id)
    extended = create_veteran(station=world.x1, grid=world.x1_grid)
    closed = create_veteran(station=world.y1)
    with freeze_time(AFTER_CLOSE):
        assert jobs.mark_overdue() == 1
    assert _statuses() == {closed.id: "overdue"}
    with freeze_time("2027-04-20 02:00:00"):  # X's extended window closes within two weeks: a closing reminder
        assert jobs.send_reminders() == 1
        assert jobs.send_reminders() == 0
    message = db.session.scalars(select(InboxMessage)).one()
    assert (message.veteran_id, message.kind, message.link) == (
        extended.id,
        "registration.closing",
        "pages/registration/index",
    )
    assert message.title == "年度确认登记即将截止" and "04月30日截止" in message.body
    with freeze_time("2027-05-01 02:00:00"):
        assert jobs.mark_overdue() == 1
    assert _statuses() == {closed.id: "overdue", extended.id: "overdue"}


def test_unit_windows_agree_with_window_for(world):
    windows.set_window(actor=world.sys_admin, year=2027, closes_on=date(2027, 4, 30), unit_id=world.x.id)
    windows.set_window(actor=world.sys_admin, year=2027, closes_on=date(2027, 5, 15), unit_id=world.x1.id)
    every = windows.unit_windows(2027)
    for unit in db.session.scalars(select(OrgUnit)):
        assert every[unit.id] == windows.window_for(2027, unit), unit.name
    assert every[world.x1_grid.id].closes_on == date(2027, 5, 15) and every[world.y1.id].closes_on == date(2027, 3, 31)


def test_reminders_batched_once_per_kind_with_inbox_rows(world, monkeypatch):
    monkeypatch.setattr(jobs, "ID_RANGE", 2)
    waiting = [create_veteran(station=world.x1) for _ in range(5)]
    done = create_veteran(station=world.x1)
    drafted = create_veteran(station=world.y1)
    _registration(done, "approved")
    _registration(drafted, "draft")
    with freeze_time("2027-01-02 01:00:00"):
        assert jobs.send_reminders() == 6
        assert jobs.send_reminders() == 0
    with freeze_time("2027-03-20 01:00:00"):
        assert jobs.send_reminders() == 6
        assert jobs.send_reminders() == 0
    rows = db.session.execute(select(InboxMessage.veteran_id, InboxMessage.kind, InboxMessage.body)).all()
    expected = {(v.id, k) for v in [*waiting, drafted] for k in ("registration.opening", "registration.closing")}
    assert {(v, k) for v, k, _ in rows} == expected and len(rows) == 12
    assert all("03月31日" in body for _, _, body in rows)
    reminders = db.session.scalar(select(func.count()).select_from(RegistrationReminder))
    assert reminders == 12


@pytest.mark.parametrize("job", ["mark_overdue", "send_reminders"])
def test_statements_do_not_grow_with_veterans(world, job):
    """Unchanged rows are never loaded: the statement count is O(batches), the same for 2 veterans and for 20."""
    when = AFTER_CLOSE if job == "mark_overdue" else "2027-01-02 01:00:00"
    working, idle = [], []
    for n in (2, 18):
        for _ in range(n):
            create_veteran(station=world.x1)
        with freeze_time(when):
            with sql_statements(keep=lambda sql: True) as seen:
                assert getattr(jobs, job)() == n  # exactly the veterans added since the last run
            working.append(len(seen))
            with sql_statements(keep=lambda sql: True) as seen:
                assert getattr(jobs, job)() == 0  # nothing to do
            idle.append(len(seen))
    assert working[0] == working[1] and idle[0] == idle[1] and idle[1] < 12, (working, idle)


def test_marking_writes_statements_per_batch_not_per_row(world):
    for _ in range(15):
        _registration(create_veteran(station=world.x1), "draft")
    for _ in range(15):
        create_veteran(station=world.y1)
    with freeze_time(AFTER_CLOSE), sql_statements(keep=lambda sql: True) as seen:
        assert jobs.mark_overdue() == 30
    assert len(seen) < 30, seen  # two steps, each a handful of statements, whatever the number of rows
    assert not [s for s in seen if s.lstrip().upper().startswith("SELECT") and "FROM veteran" in s and "name" in s]


def test_only_active_veterans_are_marked(world):
    from sqlalchemy import update

    from backend.veterans.models import Veteran

    moved_away, gone = create_veteran(station=world.x1), create_veteran(station=world.x1)
    _registration(moved_away, "draft")
    with transaction():
        db.session.execute(update(Veteran).where(Veteran.id.in_([moved_away.id, gone.id])).values(status="transferred"))
    with freeze_time("2027-01-02 01:00:00"):
        assert jobs.send_reminders() == 0
    with freeze_time(AFTER_CLOSE):
        assert jobs.mark_overdue() == 0
    assert _statuses() == {moved_away.id: "draft"}
