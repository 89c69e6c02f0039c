"""Issue 12, jobs slice: the travel overdue job marks in batches from the clear return_due_on (kept by Trip.seal and
backfilled by migration 0017), writes one event per trip and one reminder per trip not yet reminded, and never
decrypts a trip."""

import importlib.util
from datetime import date, timedelta
from pathlib import Path

from freezegun import freeze_time
from sqlalchemy import func, select, update

from backend import pii
from backend.db import transaction
from backend.extensions import db
from backend.inbox.models import InboxMessage
from backend.registration.windows import today_cst
from backend.travel import jobs
from backend.travel.models import Trip, TripEvent
from tests.factories import create_trip, create_veteran

NOW = "2027-06-10 02:00:00"  # 10:00 CST


def _trips(world, n, **content):
    with freeze_time(NOW):
        return [create_trip(create_veteran(station=world.x1), status="departed", **content) for _ in range(n)]


def test_batches_mark_every_late_trip_once_with_one_reminder_each(world, monkeypatch):
    monkeypatch.setattr(jobs, "BATCH", 2)
    late = _trips(world, 5, planned_departure=date(2027, 6, 1), planned_return=date(2027, 6, 9))
    on_time = _trips(world, 1, planned_return=date(2027, 6, 10))
    already = _trips(world, 1, planned_departure=date(2027, 6, 1), planned_return=date(2027, 6, 8))[0]
    with transaction():  # reminded once before, then cleared: marked again, not reminded again
        db.session.execute(update(Trip).where(Trip.id == already.id).values(overdue_reminded=True))

    def fail(*args, **kwargs):
        raise AssertionError("the job decrypted a trip")

    monkeypatch.setattr(pii, "decrypt", fail)
    with freeze_time(NOW):
        assert jobs.mark_overdue() == 6
        assert jobs.mark_overdue() == 0
    monkeypatch.undo()
    db.session.expire_all()
    marked = {t.id for t in db.session.scalars(select(Trip).where(Trip.overdue.is_(True)))}
    assert marked == {t.id for t in [*late, already]} and on_time[0].id not in marked
    assert all(t.overdue_reminded for t in db.session.scalars(select(Trip).where(Trip.id.in_(marked))))
    events = db.session.scalars(select(TripEvent.trip_id).where(TripEvent.action == "overdue")).all()
    assert sorted(events) == sorted(marked)
    reminded = db.session.scalars(select(InboxMessage.veteran_id).where(InboxMessage.kind == "travel.overdue")).all()
    assert sorted(reminded) == sorted(t.veteran_id for t in late)
    message = db.session.scalars(select(InboxMessage).where(InboxMessage.kind == "travel.overdue")).first()
    assert message.title == "请报告返回情况" and message.link == "pages/travel/index"


def test_return_due_on_follows_the_sealed_planned_return(world):
    trip = _trips(world, 1, planned_return=date(2027, 6, 20))[0]
    assert trip.return_due_on == date(2027, 6, 20) == trip.details["planned_return"]
    with transaction():
        data = trip.details
        data["planned_return"] = date(2027, 6, 25)
        trip.seal(data)
    db.session.expire_all()
    assert db.session.get(Trip, trip.id).return_due_on == date(2027, 6, 25)


def test_migration_backfills_return_due_on_in_batches(world, monkeypatch):
    path = Path(__file__).resolve().parents[2] / "migrations" / "versions" / "0017_set_based_job_columns_and_indexes.py"
    spec = importlib.util.spec_from_file_location("migration_0017", path)
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    monkeypatch.setattr(migration, "BACKFILL_BATCH", 2)
    today = today_cst()
    trips = _trips(world, 5, planned_return=today + timedelta(days=3))
    with transaction():
        db.session.execute(update(Trip).values(return_due_on=None))
        migration._backfill_return_due_on(db.session.connection())
    db.session.expire_all()
    dues = db.session.scalars(select(Trip.return_due_on).where(Trip.id.in_([t.id for t in trips]))).all()
    assert dues == [today + timedelta(days=3)] * 5
    assert db.session.scalar(select(func.count()).select_from(Trip).where(Trip.return_due_on.is_(None))) == 0
