"""notifications slice (issue 13): the call list (电话联系任务) — built set-based from follow-up notifications, never
duplicated, closed when the message is read; the portal page, recording an outcome, revealing the phone (audited)."""

from datetime import timedelta

import pytest
from freezegun import freeze_time
from sqlalchemy import func, select

from backend.audit.models import AuditLog
from backend.db import transaction, utcnow
from backend.extensions import db
from backend.notifications import calls
from backend.notifications.models import CallTask
from tests.authz.notify_reports_cells import make_notification, set_delivery, set_inbox
from tests.factories import create_veteran
from tests.helpers import portal_as


def _tasks(**where):
    query = select(CallTask).order_by(CallTask.id)
    for name, value in where.items():
        query = query.where(getattr(CallTask, name) == value)
    return db.session.scalars(query).all()


@pytest.fixture
def now():
    return utcnow()


def _aged(n, veteran, now, days):
    """The veteran's inbox entry of `n` arrived `days` days before `now`."""
    set_inbox(n, veteran, created_at=now - timedelta(days=days))


def test_unbound_recipients_get_a_task_once_the_notification_is_done(world, now):
    veteran = create_veteran(station=world.x1, grid=world.x1_grid)
    n = make_notification([veteran], sender_unit=world.x, status="sending")
    set_delivery(n, veteran, status="skipped", skip_reason="not_bound")
    assert calls.build(now=now) == {"unbound": 0, "unread": 0, "closed": 0}
    with transaction():
        n.status = "done"
    assert calls.build(now=now) == {"unbound": 1, "unread": 0, "closed": 0}
    (task,) = _tasks(notification_id=n.id)
    assert (task.reason, task.status, task.station_id, task.veteran_id) == ("unbound", "open", world.x1.id, veteran.id)


def test_unread_after_n_days_without_a_successful_push(world, now, portal_app):
    days = portal_app.config["NOTIFY_CALL_AFTER_DAYS"]
    vets = [create_veteran(station=world.x1) for _ in range(6)]
    n = make_notification(vets, sender_unit=world.x)
    set_delivery(n, vets[0], status="skipped", skip_reason="no_credit")  # no push: a task
    set_delivery(n, vets[1], status="sent", result="refused")  # push refused: a task
    set_delivery(n, vets[2], status="failed", error_code=43101)  # push failed: a task
    set_delivery(n, vets[3], status="sent", result="success")  # the card arrived: no task
    set_delivery(n, vets[4], status="skipped", skip_reason="no_credit")  # read meanwhile: no task
    set_inbox(n, vets[4], read_at=now)
    set_delivery(n, vets[5], status="skipped", skip_reason="no_credit")  # not old enough yet
    for v in vets[:5]:
        _aged(n, v, now, days)
    _aged(n, vets[5], now, days - 1)
    assert calls.build(now=now) == {"unbound": 0, "unread": 3, "closed": 0}
    assert {t.veteran_id for t in _tasks(reason="unread")} == {v.id for v in vets[:3]}


def test_only_follow_up_notifications_of_the_last_30_days(world, now):
    veteran = create_veteran(station=world.x1)
    quiet = make_notification([veteran], sender_unit=world.x, follow_up=False)
    old = make_notification([veteran], sender_unit=world.x, started_at=now - timedelta(days=31))
    for n in (quiet, old):
        set_delivery(n, veteran, status="skipped", skip_reason="not_bound")
        _aged(n, veteran, now, 10)
    assert calls.build(now=now) == {"unbound": 0, "unread": 0, "closed": 0}


def test_rerun_adds_nothing_and_reading_closes_the_task(world, now):
    vets = [create_veteran(station=world.x1) for _ in range(2)]
    n = make_notification(vets, sender_unit=world.x)
    for v in vets:
        set_delivery(n, v, status="skipped", skip_reason="not_bound")
    assert calls.build(now=now)["unbound"] == 2
    assert calls.build(now=now) == {"unbound": 0, "unread": 0, "closed": 0}
    set_inbox(n, vets[0], read_at=now)
    assert calls.build(now=now) == {"unbound": 0, "unread": 0, "closed": 1}
    closed, still_open = _tasks(notification_id=n.id)
    assert (closed.status, closed.outcome, closed.veteran_id) == ("done", "read", vets[0].id)
    assert still_open.status == "open"
    assert calls.build(now=now) == {"unbound": 0, "unread": 0, "closed": 0}
    assert db.session.scalar(select(func.count()).select_from(CallTask)) == 2


def test_build_with_frozen_time_waits_the_configured_days(world, portal_app):
    days = portal_app.config["NOTIFY_CALL_AFTER_DAYS"]
    with freeze_time("2026-10-01 02:00:00"):
        veteran = create_veteran(station=world.x1)
        n = make_notification([veteran], sender_unit=world.x, started_at=utcnow())
        set_delivery(n, veteran, status="skipped", skip_reason="no_credit")
        set_inbox(n, veteran, created_at=utcnow())
    with freeze_time("2026-10-01 02:00:00") as frozen:
        frozen.tick(timedelta(days=days) - timedelta(minutes=1))
        assert calls.build()["unread"] == 0
        frozen.tick(timedelta(minutes=2))
        assert calls.build()["unread"] == 1


@pytest.fixture
def task(world, now):
    veteran = create_veteran(station=world.x1, name="李大爷", phone="13912345678")
    n = make_notification([veteran], sender_unit=world.x, title="关爱慰问")
    set_delivery(n, veteran, status="skipped", skip_reason="not_bound")
    calls.build(now=now)
    return _tasks(notification_id=n.id)[0]


def test_portal_lists_open_tasks_of_the_scope_with_the_phone_masked(world, task, portal_app):
    page = portal_as(portal_app, world.staff_x).get("/notifications/calls", expect=200).text
    assert "李大爷" in page and "关爱慰问" in page and "未绑定微信" in page and "139****5678" in page
    assert "13912345678" not in page and "显示号码" in page
    other = portal_as(portal_app, world.staff_y).get("/notifications/calls", expect=200).text
    assert "李大爷" not in other and "暂无待联系" in other
    portal_as(portal_app, world.supervisor_parent).get("/notifications/calls", expect=403)


def test_recording_an_outcome_closes_the_task_and_is_audited(world, task, portal_app):
    client = portal_as(portal_app, world.staff_x)
    bad = client.post(f"/notifications/calls/{task.id}/outcome", data={"outcome": "read"}, follow_redirects=True)
    assert "请选择联系结果" in bad.text
    client.post(
        f"/notifications/calls/{task.id}/outcome", data={"outcome": "no_answer", "note": "下午再打"}, expect=302
    )
    db.session.refresh(task)
    assert (task.status, task.outcome, task.note, task.handled_by_id) == (
        "done",
        "no_answer",
        "下午再打",
        world.staff_x.id,
    )
    row = db.session.scalars(select(AuditLog).where(AuditLog.action == "notifications.call_outcome")).one()
    assert row.object_id == str(task.id) and row.details["outcome"] == "no_answer"
    again = client.post(f"/notifications/calls/{task.id}/outcome", data={"outcome": "reached"}, follow_redirects=True)
    assert "该电话联系任务已处理" in again.text
    assert "李大爷" not in client.get("/notifications/calls", expect=200).text
    portal_as(portal_app, world.staff_y).post(f"/notifications/calls/{task.id}/outcome", data={}, expect=404)


def test_outcome_note_is_bounded_and_cleaned(world, task):
    with pytest.raises(calls.ValidationFailed):
        calls.record_outcome(actor=world.staff_x, task_id=task.id, outcome="reached", note="长" * 301)
    done = calls.record_outcome(actor=world.staff_x, task_id=task.id, outcome="reached", note=" 已告知\x00\u202e ")
    assert done.note == "已告知"


def test_reveal_shows_the_phone_for_that_task_only_and_is_audited(world, task, portal_app):
    other = create_veteran(station=world.x1, phone="13900001111")
    n = make_notification([other], sender_unit=world.x)
    set_delivery(n, other, status="skipped", skip_reason="not_bound")
    calls.build(now=utcnow())
    client = portal_as(portal_app, world.staff_x)
    page = client.post(f"/notifications/calls/{task.id}/reveal", expect=200).text
    assert "13912345678" in page and "13900001111" not in page and "139****1111" in page
    row = db.session.scalars(select(AuditLog).where(AuditLog.action == "notifications.call_reveal")).one()
    assert (row.object_type, row.object_id, row.details["call_task_id"]) == ("veteran", str(task.veteran_id), task.id)
    portal_as(portal_app, world.staff_y).post(f"/notifications/calls/{task.id}/reveal", expect=404)
    portal_as(portal_app, world.supervisor_parent).post(f"/notifications/calls/{task.id}/reveal", expect=403)
    assert db.session.scalar(select(func.count()).where(AuditLog.action == "notifications.call_reveal")) == 1


def test_list_pages_oldest_first_by_keyset(world, now):
    vets = [create_veteran(station=world.x1) for _ in range(5)]
    n = make_notification(vets, sender_unit=world.x)
    for v in vets:
        set_delivery(n, v, status="skipped", skip_reason="not_bound")
    calls.build(now=now)
    rows, after = calls.list_open(actor=world.staff_x, limit=3)
    more, last = calls.list_open(actor=world.staff_x, after=after, limit=3)
    assert [r.veteran.id for r in rows + more] == [v.id for v in vets] and last is None
    assert calls.count_open(actor=world.staff_x) == 5 and calls.count_open(actor=world.staff_y) == 0
