"""Shared helpers of the honors tests: a celebration of county X, veterans at X1, phone clients."""

from datetime import timedelta

from sqlalchemy import func, select

from backend.db import transaction, utcnow
from backend.extensions import db
from backend.honors import ceremonies
from backend.honors.models import Ceremony, Invitation
from backend.inbox.models import InboxMessage
from backend.registration.windows import today_cst
from tests.factories import create_veteran
from tests.helpers import ApiClient
from tests.registration.helpers import account_for


def celebration(world, *, actor=None, days=20, rsvp_days=None, unit=None, title="八一建军节座谈会"):
    """A celebration organised by county X (or `unit`), `days` from today at 09:30 CST."""
    values = {
        "unit_id": str((unit or world.x).id),
        "level": "local",
        "title": title,
        "held_at": (today_cst() + timedelta(days=days)).isoformat() + "T09:30",
        "place": "县退役军人服务中心",
        "attendees": "县委领导",
        "rsvp_by": (today_cst() + timedelta(days=rsvp_days)).isoformat() if rsvp_days is not None else "",
    }
    return ceremonies.create_celebration(actor=actor or world.staff_x, values=values)


def move_in_time(ceremony, *, held_in=None, rsvp_by=None):
    """Shift a ceremony's time (and reply date) as if days had passed."""
    with transaction():
        row = db.session.get(Ceremony, ceremony.id)
        if held_in is not None:
            row.held_at = utcnow() + held_in
        row.rsvp_by = rsvp_by
    return row


def veterans(world, n, *, station=None, grid=None, **fields):
    return [create_veteran(station=station or world.x1, grid=grid, **fields) for _ in range(n)]


def invitation_count(ceremony_id):
    return db.session.scalar(select(func.count()).select_from(Invitation).where(Invitation.ceremony_id == ceremony_id))


def invitation_of(ceremony_id, veteran_id):
    return db.session.scalars(
        select(Invitation)
        .where(Invitation.ceremony_id == ceremony_id, Invitation.veteran_id == veteran_id)
        .execution_options(populate_existing=True)
    ).first()


def inbox_count(veteran_id, kind="invitation"):
    return db.session.scalar(
        select(func.count())
        .select_from(InboxMessage)
        .where(InboxMessage.veteran_id == veteran_id, InboxMessage.kind == kind)
    )


def phone_for(api_app, veteran):
    from miniprogram_api.security import issue_tokens

    account = account_for(veteran)
    with api_app.test_request_context():
        token = issue_tokens(account)["access_token"]
    return ApiClient(api_app, token)
