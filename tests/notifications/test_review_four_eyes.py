"""Review of issue 13's four-eyes rule: whoever edited or submitted a notification cannot approve it either."""

import pytest
from flask import current_app

from backend.notifications import compose
from tests.factories import create_staff, create_veteran
from tests.helpers import portal_as


@pytest.fixture
def world(world):
    for _ in range(3):
        create_veteran(station=world.x1)
    world.staff["reviewer_b"] = create_staff(unit=world.x, roles=("center_reviewer",))
    world.staff["reviewer_c"] = create_staff(unit=world.x, roles=("center_reviewer",))
    return world


def _draft(w, actor):
    n, _ = compose.save_draft(actor=actor, title="重阳问候", body="祝您安康", audience={"unit_id": w.x1.id})
    return n


def test_an_editor_of_someone_elses_draft_cannot_approve_it(world, monkeypatch, kicked, portal_app):
    w = world
    monkeypatch.setitem(current_app.config, "NOTIFY_APPROVAL_THRESHOLD", 1)
    n = _draft(w, w.staff_x)
    compose.save_draft(
        actor=w.reviewer_b, notification_id=n.id, title="改过的标题", body="改过的内容", audience={"unit_id": w.x.id}
    )
    assert compose.submit(actor=w.reviewer_b, notification_id=n.id).status == "pending_approval"
    for person in (w.reviewer_b, w.staff_x):
        with pytest.raises(compose.SelfApproval):
            compose.approve(actor=person, notification_id=n.id)
        with pytest.raises(compose.SelfApproval):
            compose.reject(actor=person, notification_id=n.id, reason="不行")
    assert kicked == []
    page = portal_as(portal_app, w.reviewer_b).get(f"/notifications/{n.id}", expect=200).text
    assert 'data-testid="approve-form"' not in page
    assert compose.approve(actor=w.reviewer_c, notification_id=n.id).status == "sending" and kicked == [n.id]


def test_a_submitter_who_did_not_write_it_cannot_approve_it(world, monkeypatch):
    w = world
    monkeypatch.setitem(current_app.config, "NOTIFY_APPROVAL_THRESHOLD", 1)
    n = _draft(w, w.staff_x)
    compose.submit(actor=w.reviewer_b, notification_id=n.id)
    with pytest.raises(compose.SelfApproval):
        compose.approve(actor=w.reviewer_b, notification_id=n.id)
