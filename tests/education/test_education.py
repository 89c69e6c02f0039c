"""Education reminders (Art. 5): campaigns within scope, delivery through the pipeline with inbox entries asking for
acknowledgement, the phone's POST /inbox/{id}/acknowledge (own message only, idempotent, refused where not asked),
the rate on the staff page, the chase onto the call list (once), sessions with attendance, panel and card."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from backend.audit.models import AuditLog
from backend.education import campaigns, followup, sessions
from backend.errors import NotFound, ValidationFailed
from backend.extensions import db
from backend.inbox.models import InboxMessage
from backend.inbox.service import post_message
from backend.notifications import calls
from backend.notifications.models import CallTask, Notification
from backend.registration.windows import today_cst
from tests.api.helpers import bound_client
from tests.education.helpers import deliver, draft, message_of, sent, session
from tests.factories import create_unit, create_veteran
from tests.helpers import portal_as


def _actions():
    return db.session.scalars(select(AuditLog.action).where(AuditLog.object_type == "education_campaign")).all()


def test_send_goes_through_the_pipeline_and_marks_inbox_entries(world):
    w = world
    a, b = create_veteran(station=w.x1), create_veteran(station=w.x1)
    create_veteran(station=w.y1)  # another county: never a recipient
    item = draft(w)  # veteran A of the world, a and b
    assert campaigns.preview_count(item) == 3
    campaigns.send(actor=w.staff_x, campaign_id=item.id)
    deliver(item)
    notification = db.session.get(Notification, item.notification_id)
    assert (notification.kind, notification.source, notification.follow_up) == ("education", "staff", False)
    assert item.state == "sent" and item.recipient_count == 3
    query = select(InboxMessage).where(InboxMessage.notification_id == item.notification_id)
    messages = db.session.scalars(query).all()
    assert {m.veteran_id for m in messages} == {w.veteran.id, a.id, b.id}
    assert all(m.requires_ack and m.acknowledged_at is None for m in messages)
    assert "保密须知：https://example.gov.cn/baomi" in messages[0].body
    with pytest.raises(campaigns.AlreadySent):
        campaigns.send(actor=w.staff_x, campaign_id=item.id)
    assert {"education.campaign_created", "education.campaign_sent"} <= set(_actions())
    # an ordinary system message asks for no acknowledgement
    assert post_message(veteran_id=a.id, kind="system", title="t", body="b").requires_ack is False


def test_scope_and_validation(world):
    w = world
    item = draft(w)
    with pytest.raises(NotFound):
        campaigns.get_campaign(actor=w.staff_y, campaign_id=item.id)
    with pytest.raises(NotFound):
        campaigns.send(actor=w.staff_y, campaign_id=item.id)
    with pytest.raises(NotFound):  # a unit outside the sender's subtree
        draft(w, key="other", unit=w.y1)
    assert [c.id for c in campaigns.list_campaigns(actor=w.staff_y).rows] == []
    assert [c.id for c in campaigns.list_campaigns(actor=w.supervisor_parent).rows] == [item.id]
    for bad in ("javascript:alert(1)", "//evil.example/x", "ftp://x", "http://a b"):
        with pytest.raises(ValidationFailed):
            campaigns.clean_links([{"title": "x", "url": bad}])
    assert campaigns.parse_links("材料|/materials/1\n讲话 https://a.cn/b") == [
        {"title": "材料", "url": "/materials/1"},
        {"title": "讲话", "url": "https://a.cn/b"},
    ]
    with pytest.raises(Exception):  # station staff may view but not send  # noqa: B017
        campaigns.send(actor=w.target, campaign_id=item.id)


def test_acknowledge_through_the_phone(world, api_app, portal_app, fake_wechat):
    w = world
    a = create_veteran(station=w.x1)
    other = create_veteran(station=w.x1)
    item = sent(w)
    mine, theirs = message_of(item, a), message_of(item, other)
    client = bound_client(api_app, fake_wechat, a)
    listed = client.get("/v1/inbox", expect=200).get_json()["items"]
    entry = next(i for i in listed if i["id"] == mine.id)
    assert entry["requires_ack"] is True and entry["acknowledged_at"] is None and entry["kind_label"] == "教育提醒"
    # another veteran's message: not found
    client.post(f"/v1/inbox/{theirs.id}/acknowledge", expect=404)
    first = client.post(f"/v1/inbox/{mine.id}/acknowledge", expect=200).get_json()
    assert first["acknowledged_at"] and first["read_at"] and first["requires_ack"] is True
    again = client.post(f"/v1/inbox/{mine.id}/acknowledge", expect=200).get_json()
    assert again["acknowledged_at"] == first["acknowledged_at"]
    replay = client.post(f"/v1/inbox/{mine.id}/acknowledge", headers={"Idempotency-Key": "ack-1"}, expect=200)
    assert replay.get_json()["acknowledged_at"] == first["acknowledged_at"]
    assert client.get(f"/v1/inbox/{mine.id}", expect=200).get_json()["acknowledged_at"] == first["acknowledged_at"]
    plain = post_message(veteran_id=a.id, kind="system", title="t", body="b")
    refused = client.post(f"/v1/inbox/{plain.id}/acknowledge", expect=409).get_json()
    assert refused["error"]["code"] == "inbox.ack_not_required"
    assert followup.rate(item) == followup.Rate(3, 1)  # veteran A of the world, a, other
    page = portal_as(portal_app, w.staff_x).get(f"/education/campaigns/{item.id}", expect=200).text
    assert "1 / 3" in page and "33.3%" in page


def test_chase_puts_the_unacknowledged_on_the_call_list_once(world, api_app, fake_wechat):
    w = world
    a = create_veteran(station=w.x1)
    item = sent(w)
    with pytest.raises(NotFound):
        followup.chase(actor=w.staff_y, campaign_id=item.id)
    with pytest.raises(campaigns.NotSent):
        followup.chase(actor=w.staff_x, campaign_id=draft(w, key="still_draft").id)
    bound_client(api_app, fake_wechat, a).post(f"/v1/inbox/{message_of(item, a).id}/acknowledge", expect=200)
    assert followup.chase(actor=w.staff_x, campaign_id=item.id) == 1  # veteran A only
    assert followup.chase(actor=w.staff_x, campaign_id=item.id) == 0
    task = db.session.scalars(select(CallTask).where(CallTask.notification_id == item.notification_id)).one()
    assert (task.veteran_id, task.reason, task.status) == (w.veteran.id, "unacked", "open")
    db.session.refresh(item)
    assert item.chased_at is not None and "education.campaign_chased" in _actions()
    # reading alone does not close it; acknowledging does
    message = message_of(item, w.veteran)
    message.read_at = message.created_at
    db.session.commit()
    calls.build()
    db.session.refresh(task)
    assert task.status == "open"
    from backend.inbox.service import acknowledge

    acknowledge(veteran_id=w.veteran.id, message_id=message.id)
    db.session.refresh(task)
    assert (task.status, task.outcome) == ("done", "read")


def test_sessions_and_attendance_within_scope(world):
    w = world
    s = session(w)
    inside, outside = create_veteran(station=w.x1, name="张学习"), create_veteran(station=w.y1, name="张外区")
    sessions.record_attendance(actor=w.staff_x, session_id=s.id, veteran_id=inside.id, attended=True)
    sessions.record_attendance(actor=w.staff_x, session_id=s.id, veteran_id=inside.id, attended=False, note="请假")
    with pytest.raises(NotFound):
        sessions.record_attendance(actor=w.staff_x, session_id=s.id, veteran_id=outside.id)
    with pytest.raises(NotFound):
        sessions.get_session(actor=w.staff_y, session_id=s.id)
    rows = sessions.attendance_of(s)
    assert [(att.attended, att.note) for att, _ in rows] == [(False, "请假")]
    assert [v.id for v in sessions.search_veterans(actor=w.staff_x, session=s, name="张")] == [inside.id]
    assert sessions.list_sessions(actor=w.staff_y)[0] == []


def test_veteran_panel_and_workbench_card(world, portal_app):
    w = world
    item = sent(w, key="overdue", due_days=-1)
    sessions.record_attendance(actor=w.staff_x, session_id=session(w).id, veteran_id=w.veteran.id)
    assert followup.count_overdue(actor=w.staff_x, today=today_cst()).value == 1
    assert followup.count_overdue(actor=w.staff_y, today=today_cst()).value == 0
    assert followup.count_overdue(actor=w.staff_x, today=today_cst() - timedelta(days=2)).value == 0
    client = portal_as(portal_app, w.staff_x)
    home = client.get("/", expect=200).text
    assert "已过截止日期仍有人未确认知悉" in home
    page = client.get(f"/veterans/{w.veteran.id}", expect=200).text
    assert item.title in page and "未确认" in page and "党史学习" in page
    assert db.session.scalar(select(func.count()).select_from(InboxMessage)) >= 1


def test_openapi_documents_acknowledge(api):
    spec = api.get("/openapi.json", expect=200).get_json()
    operation = spec["paths"]["/v1/inbox/{message_id}/acknowledge"]["post"]
    assert "200" in operation["responses"] and "409" in operation["responses"]
    assert "Idempotency" in str(operation)
    message = spec["components"]["schemas"]["Message"]["properties"]
    assert {"requires_ack", "acknowledged_at"} <= set(message)


def test_session_campaign_must_be_of_its_unit_or_above(world):
    w = world
    other_station = create_unit(parent=w.x, name="石桥镇服务站")
    sibling = draft(w, key="sibling", unit=other_station)
    above = draft(w, key="above", unit=w.x)
    with pytest.raises(ValidationFailed):
        sessions.create_session(
            actor=w.staff_x, unit_id=w.x1.id, kind="confidentiality", title="学习", held_on="2024-05-01",
            place="会议室", campaign_id=sibling.id,
        )  # fmt: skip
    made = sessions.create_session(
        actor=w.staff_x, unit_id=w.x1.id, kind="confidentiality", title="学习", held_on="2024-05-01",
        place="会议室", campaign_id=above.id,
    )  # fmt: skip
    assert made.campaign_id == above.id
