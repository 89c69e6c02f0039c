"""The compose pages (issue 13): compose, preview, send, detail, approve and cancel through the portal."""

import io
import re
from datetime import UTC, datetime, timedelta

import pytest
from flask import current_app
from sqlalchemy import select

from backend.extensions import db
from backend.notifications.models import Notification
from backend.registration.windows import CST
from tests.factories import build_world, create_staff, create_veteran
from tests.helpers import portal_as


@pytest.fixture
def world():
    w = build_world()
    w.objects["a"] = create_veteran(station=w.x1, grid=w.x1_grid, party_member=True)
    w.objects["b"] = create_veteran(station=w.x1)
    w.objects["c"] = create_veteran(station=w.y1)
    return w


def _form(w, **over):
    data = {"title": "重阳节问候", "body": "{姓名}同志：祝您重阳安康！", "use_filter": "1", "unit": str(w.x1.id)}
    data.update(over)
    return data


def _latest():
    return db.session.scalars(
        select(Notification).order_by(Notification.id.desc()).execution_options(populate_existing=True)
    ).first()


def test_compose_preview_send_and_see_it_listed(world, portal_app, kicked):
    w = world
    portal = portal_as(portal_app, w.staff_x)
    page = portal.get("/notifications/new", expect=200).text
    assert "编写关爱通知" in page and w.x1.name in page and w.y1.name not in page
    response = portal.post("/notifications/new", data=_form(w), expect=302)
    n = _latest()
    assert response.headers["Location"] == f"/notifications/{n.id}/preview"
    preview = portal.get(f"/notifications/{n.id}/preview", expect=200).text
    assert re.search(r'data-testid="count-total">2<', preview)
    assert re.search(r'data-testid="count-inbox-only">2<', preview)
    assert "祝您重阳安康！" in preview and 'data-testid="wechat-card"' in preview
    portal.post(f"/notifications/{n.id}/submit", data={"when": "now"}, expect=302)
    assert _latest().status == "sending" and kicked == [n.id]
    detail = portal.get(f"/notifications/{n.id}", expect=200).text
    assert "发送中" in detail and 'data-testid="cancel-form"' not in detail
    assert "重阳节问候" in portal.get("/notifications/", expect=200).text
    assert "重阳节问候" not in portal_as(portal_app, w.staff_y).get("/notifications/", expect=200).text


def test_schedule_in_china_standard_time(world, portal_app):
    w = world
    portal = portal_as(portal_app, w.staff_x)
    portal.post("/notifications/new", data=_form(w), expect=302)
    n = _latest()
    local = (datetime.now(UTC).astimezone(CST) + timedelta(days=30)).replace(second=0, microsecond=0)
    send_at = local.strftime("%Y-%m-%dT%H:%M")
    portal.post(f"/notifications/{n.id}/submit", data={"when": "later", "send_at": send_at}, expect=302)
    n = _latest()
    assert n.status == "scheduled" and n.scheduled_at == local.astimezone(UTC)
    assert local.strftime("%Y-%m-%d %H:%M") in portal.get(f"/notifications/{n.id}", expect=200).text
    portal.post(f"/notifications/{n.id}/cancel", expect=302)
    assert _latest().status == "cancelled"
    portal.post(f"/notifications/{n.id}/submit", data={"when": "later", "send_at": "yesterday"}, expect=302)
    assert _latest().status == "cancelled"


def test_crafted_units_and_uploaded_lists_stay_in_scope(world, portal_app):
    w = world
    portal = portal_as(portal_app, w.staff_x)
    portal.post("/notifications/new", data=_form(w, unit=str(w.y1.id)), expect=404)
    portal.post("/notifications/new", data=_form(w, unit="abc"), expect=422)
    upload = (io.BytesIO(f"{w.a.id_number}\n{w.c.id_number}\n".encode()), "名单.txt")
    data = _form(w, use_filter="", pick=[str(w.c.id)], id_file=upload)
    portal.post("/notifications/new", data=data, content_type="multipart/form-data", expect=302)
    n = _latest()
    preview = portal.get(f"/notifications/{n.id}/preview", expect=200).text
    assert re.search(r'data-testid="count-total">1<', preview)
    listed = portal.get("/notifications/pick-search?q=老兵", headers={"HX-Request": "true"}, expect=200).text
    portal.get("/notifications/pick-search?q=老兵", expect=302)  # not htmx: the compose page
    assert f'value="{w.a.id}"' in listed and f'value="{w.c.id}"' not in listed


def test_approval_through_the_portal(world, portal_app, monkeypatch):
    w = world
    monkeypatch.setitem(current_app.config, "NOTIFY_APPROVAL_THRESHOLD", 1)
    monkeypatch.setitem(portal_app.config, "NOTIFY_APPROVAL_THRESHOLD", 1)
    approver = create_staff(unit=w.x, roles=("center_reviewer",))
    portal = portal_as(portal_app, w.staff_x)
    portal.post("/notifications/new", data=_form(w), expect=302)
    n = _latest()
    portal.post(f"/notifications/{n.id}/submit", data={"when": "now"}, expect=302)
    assert _latest().status == "pending_approval"
    assert 'data-testid="approve-form"' not in portal.get(f"/notifications/{n.id}", expect=200).text
    portal.post(f"/notifications/{n.id}/approve", expect=302)  # refused with a message: one's own
    assert _latest().status == "pending_approval"
    second = portal_as(portal_app, approver)
    assert 'data-testid="approve-form"' in second.get(f"/notifications/{n.id}", expect=200).text
    second.post(f"/notifications/{n.id}/approve", expect=302)
    assert _latest().status == "sending" and _latest().approved_by_id == approver.id
