"""Compose and send (issue 13): drafts, preview, send now, schedule and cancel with frozen time, the four-eyes rule,
and the scope of every action."""

from datetime import UTC, datetime, timedelta

import pytest
from flask import current_app
from freezegun import freeze_time
from sqlalchemy import select

from backend.audit.models import AuditLog
from backend.errors import ValidationFailed
from backend.extensions import db
from backend.notifications import compose
from backend.notifications.models import Delivery
from backend.orgs.scope import OrgUnitNotFound
from tests.factories import build_world, create_staff, create_veteran
from tests.notifications.helpers import bind, deliver, grant, notification

T0 = datetime(2027, 3, 1, 2, 0, tzinfo=UTC)  # 10:00 in Beijing


@pytest.fixture
def world():
    w = build_world()
    w.objects["a"] = create_veteran(station=w.x1, grid=w.x1_grid, name="张卫国")
    w.objects["b"] = create_veteran(station=w.x1)
    w.objects["c"] = create_veteran(station=w.y1)
    w.staff["approver_x"] = create_staff(unit=w.x, roles=("center_reviewer",))
    return w


def draft(w, actor=None, audience=None, **kw):
    n, _ = compose.save_draft(
        actor=actor or w.staff_x,
        title=kw.pop("title", "春节慰问"),
        body=kw.pop("body", "{姓名}同志：{单位}祝您和家人新春快乐！"),
        audience={"unit_id": w.x1.id} if audience is None else audience,
        **kw,
    )
    return n


def test_draft_preview_shows_counts_the_inbox_text_and_the_card(world, fake_wechat):
    w = world
    grant(fake_wechat, bind(w.a))
    n = draft(w)
    assert (n.status, n.kind, n.source, n.sender_unit_id, n.follow_up) == ("draft", "care", "staff", w.x.id, True)
    p = compose.preview(actor=w.staff_x, notification=n)
    assert (p.count, p.push, p.inbox_only) == (2, 1, 1)
    assert p.sample.id == min(w.a.id, w.b.id)
    assert p.inbox_text == f"{p.sample.name}同志：青山县祝您和家人新春快乐！"
    assert p.card["template_id"] == "TPL_CARE"
    assert p.card["data"]["thing1"]["value"] == "春节慰问"
    assert p.card["data"]["thing2"]["value"] == "青山县"
    actions = db.session.scalars(select(AuditLog.action).where(AuditLog.object_id == str(n.id))).all()
    assert actions == ["notifications.draft_created"]


def test_draft_refuses_unknown_variables_no_recipients_and_out_of_scope_units(world):
    w = world
    with pytest.raises(ValidationFailed) as error:
        draft(w, body="{身份证号}")
    assert "body" in error.value.details
    with pytest.raises(ValidationFailed) as error:
        draft(w, audience={})
    assert "recipients" in error.value.details
    with pytest.raises(OrgUnitNotFound):
        draft(w, audience={"unit_id": w.y1.id})
    # an uploaded list reaches only the scope: Y's veteran is counted as not found, never picked
    n, report = compose.save_draft(
        actor=w.staff_x, title="t", body="b", audience={}, id_numbers=[w.c.id_number, w.b.id_number]
    )
    assert report == {"matched": 1, "not_found": 1, "invalid": 0}
    assert compose.preview(actor=w.staff_x, notification=n).count == 1


def test_send_now_starts_delivery_and_every_recipient_gets_one_delivery(world, kicked, fake_wechat):
    w = world
    n = draft(w, pick_ids=[w.c.id])  # a crafted pick from another county is dropped
    sent = compose.submit(actor=w.staff_x, notification_id=n.id)
    assert sent.status == "sending" and sent.started_at is not None and sent.recipient_count == 2
    assert kicked == [n.id]
    deliver(n.id)
    rows = db.session.scalars(select(Delivery).where(Delivery.notification_id == n.id)).all()
    assert sorted(r.veteran_id for r in rows) == sorted([w.a.id, w.b.id])
    with pytest.raises(compose.NotEditable):
        compose.cancel(actor=w.staff_x, notification_id=n.id)
    with pytest.raises(compose.NotEditable):
        draft(w, notification_id=n.id)


def test_schedule_then_start_due_at_the_time_and_cancel_stops_it(world, kicked):
    from backend.notifications.watchdog import start_due

    w = world
    with freeze_time(T0) as clock:
        n = draft(w)
        with pytest.raises(ValidationFailed):
            compose.submit(actor=w.staff_x, notification_id=n.id, send_at=T0 - timedelta(minutes=1))
        scheduled = compose.submit(actor=w.staff_x, notification_id=n.id, send_at=T0 + timedelta(hours=2))
        assert scheduled.status == "scheduled" and kicked == []
        other = draft(w, title="另一条")
        compose.submit(actor=w.staff_x, notification_id=other.id, send_at=T0 + timedelta(hours=2))
        compose.cancel(actor=w.staff_x, notification_id=other.id)
        started = []
        clock.tick(timedelta(hours=1))
        start_due(deliver=started.append)
        assert started == [] and notification(n.id).status == "scheduled"
        clock.tick(timedelta(hours=1, seconds=1))
        start_due(deliver=started.append)
        assert started == [n.id]  # the cancelled one never starts
        assert notification(other.id).status == "cancelled"
        assert notification(n.id).status == "sending"
        with pytest.raises(compose.NotEditable):
            compose.cancel(actor=w.staff_x, notification_id=n.id)


def test_editing_a_scheduled_notification_takes_it_back_to_draft(world):
    w = world
    with freeze_time(T0):
        n = draft(w)
        compose.submit(actor=w.staff_x, notification_id=n.id, send_at=T0 + timedelta(days=1))
        edited = draft(w, notification_id=n.id, title="改过的标题")
        assert (edited.status, edited.title) == ("draft", "改过的标题")


def test_over_the_threshold_a_second_person_approves(world, monkeypatch, kicked):
    w = world
    monkeypatch.setitem(current_app.config, "NOTIFY_APPROVAL_THRESHOLD", 1)
    n = draft(w)
    pending = compose.submit(actor=w.staff_x, notification_id=n.id)
    assert pending.status == "pending_approval" and pending.approval_needed and kicked == []
    with pytest.raises(compose.SelfApproval):
        compose.approve(actor=w.staff_x, notification_id=n.id)
    with pytest.raises(compose.NotificationNotFound):
        compose.approve(actor=w.staff_y, notification_id=n.id)  # another county: not in scope
    approved = compose.approve(actor=w.approver_x, notification_id=n.id)
    assert (approved.status, approved.approved_by_id) == ("sending", w.approver_x.id)
    assert kicked == [n.id]
    with pytest.raises(compose.NotEditable):
        compose.approve(actor=w.approver_x, notification_id=n.id)
    # a rejected one is never sent; the reason is kept in the audit log
    m = draft(w, title="第二条")
    compose.submit(actor=w.staff_x, notification_id=m.id)
    with pytest.raises(ValidationFailed):
        compose.reject(actor=w.approver_x, notification_id=m.id, reason="  ")
    rejected = compose.reject(actor=w.approver_x, notification_id=m.id, reason="范围过大，请缩小")
    assert rejected.status == "rejected" and compose.rejection_reason(rejected) == "范围过大，请缩小"
    assert kicked == [n.id]


def test_scope_of_reading_and_acting(world):
    w = world
    n = draft(w)
    for actor in (w.staff_y, w.target):  # another county; a station below the sender unit
        with pytest.raises(compose.NotificationNotFound):
            compose.get_notification(actor=actor, notification_id=n.id)
    assert compose.get_notification(actor=w.supervisor_parent, notification_id=n.id).id == n.id
    assert [r.id for r in compose.list_notifications(actor=w.staff_y).rows] == []
    assert n.id in [r.id for r in compose.list_notifications(actor=w.staff_x).rows]
