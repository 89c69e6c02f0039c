"""Invitations: set-based inserts by unit (and party members only) and by picked veterans, no duplicates when
inviting twice, scope, the notification through the pipeline (in chunks), replies recorded by staff, audit."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from backend.audit.models import AuditLog
from backend.errors import ValidationFailed
from backend.extensions import db
from backend.honors import invitations
from backend.honors.rules import CeremonyNotFound, RsvpClosed
from backend.notifications.models import Notification
from backend.orgs.scope import OrgUnitNotFound
from tests.factories import create_veteran
from tests.honors.helpers import (
    celebration,
    inbox_count,
    invitation_count,
    invitation_of,
    move_in_time,
    veterans,
)


def test_inviting_a_unit_twice_inserts_each_veteran_once_and_tells_only_the_new(world, kicked):
    ceremony = celebration(world)
    first = veterans(world, 3)
    gone = create_veteran(station=world.x1, status="transferred")
    assert invitations.invite(actor=world.staff_x, ceremony_id=ceremony.id, unit_id=world.x1.id) == 3
    assert invitation_count(ceremony.id) == 3 and invitation_of(ceremony.id, gone.id) is None
    assert all(inbox_count(v.id) == 1 for v in first)
    late = create_veteran(station=world.x1)
    assert invitations.invite(actor=world.staff_x, ceremony_id=ceremony.id, unit_id=world.x1.id) == 1
    assert invitation_count(ceremony.id) == 4
    assert all(inbox_count(v.id) == 1 for v in first) and inbox_count(late.id) == 1
    notes = db.session.scalars(select(Notification).where(Notification.kind == "invitation")).all()
    assert [n.recipient_count for n in notes] == [3, 1]
    assert {n.id for n in notes} <= set(kicked)  # the WeChat part starts after the commit
    assert notes[0].title == "邀请您参加八一建军节座谈会" and "县退役军人服务中心" in notes[0].body


def test_party_members_only_and_picked_veterans_without_duplicates(world):
    ceremony = celebration(world)
    members = veterans(world, 2, party_member=True)
    others = veterans(world, 2)
    count = invitations.invite(
        actor=world.staff_x,
        ceremony_id=ceremony.id,
        unit_id=world.x1.id,
        party_only=True,
        veteran_ids=[members[0].id, others[0].id],
    )
    assert count == 3  # both members, plus the picked non-member; the picked member counts once
    assert invitation_of(ceremony.id, others[1].id) is None
    assert invitation_of(ceremony.id, others[0].id).status == "invited"


def test_large_units_go_in_batches_with_one_notification_per_batch(world, monkeypatch):
    monkeypatch.setattr(invitations, "BATCH", 2)
    ceremony = celebration(world)
    veterans(world, 5)
    assert invitations.invite(actor=world.staff_x, ceremony_id=ceremony.id, unit_id=world.x1.id) == 5
    notes = db.session.scalars(select(Notification).where(Notification.kind == "invitation")).all()
    assert sorted(n.recipient_count for n in notes) == [1, 2, 2]


def test_scope_outside_looks_like_not_found(world):
    ceremony = celebration(world)
    y_veteran = create_veteran(station=world.y1)
    with pytest.raises(CeremonyNotFound):
        invitations.invite(actor=world.staff_y, ceremony_id=ceremony.id, unit_id=world.y1.id)
    with pytest.raises(OrgUnitNotFound):
        invitations.invite(actor=world.staff_x, ceremony_id=ceremony.id, unit_id=world.y1.id)
    # a picked veteran outside the scope is silently not invited (never named)
    assert invitations.invite(actor=world.staff_x, ceremony_id=ceremony.id, veteran_ids=[y_veteran.id]) == 0
    assert invitation_count(ceremony.id) == 0


def test_nothing_chosen_is_a_validation_error(world):
    ceremony = celebration(world)
    with pytest.raises(ValidationFailed):
        invitations.invite(actor=world.staff_x, ceremony_id=ceremony.id)


def test_staff_record_a_reply_by_phone_and_it_is_audited(world):
    ceremony = celebration(world)
    (veteran,) = veterans(world, 1)
    invitations.invite(actor=world.staff_x, ceremony_id=ceremony.id, veteran_ids=[veteran.id])
    invitation = invitation_of(ceremony.id, veteran.id)
    invitations.record_reply(actor=world.staff_x, invitation_id=invitation.id, attending=True, guests=2)
    invitation = invitation_of(ceremony.id, veteran.id)
    assert (invitation.status, invitation.guests, invitation.recorded_by_id) == ("accepted", 2, world.staff_x.id)
    actions = db.session.scalars(select(AuditLog.action).where(AuditLog.object_id == str(invitation.id))).all()
    assert "honors.reply_record" in actions
    with pytest.raises(ValidationFailed):
        invitations.record_reply(actor=world.staff_x, invitation_id=invitation.id, attending=True, guests=4)
    move_in_time(ceremony, held_in=-timedelta(hours=1))
    with pytest.raises(RsvpClosed):
        invitations.record_reply(actor=world.staff_x, invitation_id=invitation.id, attending=False)


def test_the_invitation_is_audited_with_the_organisers_path(world):
    ceremony = celebration(world)
    veterans(world, 2)
    invitations.invite(actor=world.staff_x, ceremony_id=ceremony.id, unit_id=world.x1.id)
    row = db.session.scalars(select(AuditLog).where(AuditLog.action == "honors.invite")).one()
    assert row.org_path == world.x.path and row.details["invited"] == 2
