"""After sending: the acknowledgement rate, the veterans who have not acknowledged, and the chase that puts them on
the call list (backend/notifications/calls.py, reason "unacked").

Counts come from inbox_message by notification_id (the unique (notification_id, veteran_id) index): one statement
however large the audience. The chase is one INSERT … SELECT of call tasks (one per delivery, unique), so chasing
twice adds nobody twice; a task closes when its reminder is acknowledged (backend/inbox/service.acknowledge).
"""

from dataclasses import dataclass
from datetime import date

from sqlalchemy import and_, exists, func, literal, select, update
from sqlalchemy.dialects import postgresql, sqlite

from backend.counting import capped_count
from backend.db import transaction, utcnow
from backend.education.campaigns import NotSent, audit, get_campaign
from backend.education.models import EducationAttendance, EducationCampaign, EducationSession
from backend.extensions import db
from backend.inbox.models import InboxMessage
from backend.notifications.models import CallTask, Delivery
from backend.orgs.scope import require_permission, scoped
from backend.veterans.models import Veteran

CHASE_REASON = "unacked"


@dataclass
class Rate:
    recipients: int
    acknowledged: int

    @property
    def pending(self):
        return max(self.recipients - self.acknowledged, 0)

    @property
    def percent(self):
        return round(100 * self.acknowledged / self.recipients, 1) if self.recipients else 0.0


def rate(campaign):
    """Acknowledged / recipients of a sent campaign, counted from its inbox entries (one indexed statement)."""
    if campaign.notification_id is None:
        return Rate(0, 0)
    total, acked = db.session.execute(
        select(func.count(), func.count(InboxMessage.acknowledged_at)).where(
            InboxMessage.notification_id == campaign.notification_id
        )
    ).one()
    return Rate(total or 0, acked or 0)


def rates(campaigns):
    """{campaign id: Rate} of the sent campaigns of a page: one GROUP BY over their inbox entries."""
    by_notification = {c.notification_id: c.id for c in campaigns if c.notification_id is not None}
    out = {c.id: Rate(0, 0) for c in campaigns}
    if by_notification:
        rows = db.session.execute(
            select(InboxMessage.notification_id, func.count(), func.count(InboxMessage.acknowledged_at))
            .where(InboxMessage.notification_id.in_(list(by_notification)))
            .group_by(InboxMessage.notification_id)
        )
        for notification_id, total, acked in rows:
            out[by_notification[notification_id]] = Rate(total, acked)
    return out


def unacknowledged(*, actor, campaign_id, after=None, limit=50):
    """Recipients who have not acknowledged, by veteran id (keyset). :returns: (campaign, [(Veteran, InboxMessage)],
    next_after)."""
    campaign = get_campaign(actor=actor, campaign_id=campaign_id)
    if campaign.notification_id is None:
        return campaign, [], None
    query = (
        select(Veteran, InboxMessage)
        .join(InboxMessage, InboxMessage.veteran_id == Veteran.id)
        .where(InboxMessage.notification_id == campaign.notification_id, InboxMessage.acknowledged_at.is_(None))
    )
    if after:
        query = query.where(Veteran.id > after)
    rows = db.session.execute(query.order_by(Veteran.id).limit(limit + 1)).all()
    return campaign, rows[:limit], (rows[limit - 1][0].id if len(rows) > limit else None)


def _insert(table):
    dialect = db.session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)


def chase(*, actor, campaign_id, now=None):
    """Put every recipient who has not acknowledged on their station's call list (any time after sending; the
    workbench points at campaigns past their due date). Returns how many tasks were added. Audited.

    :raises PermissionDenied, CampaignNotFound, NotSent:
    """
    require_permission(actor, "education.send")
    now = now or utcnow()
    with transaction():
        campaign = get_campaign(actor=actor, campaign_id=campaign_id, permission="education.send", lock=True)
        if campaign.notification_id is None:
            raise NotSent()
        tasks = CallTask.__table__
        source = (
            select(
                Delivery.veteran_id,
                Veteran.station_id,
                Delivery.notification_id,
                Delivery.id,
                literal(CHASE_REASON),
                literal("open"),
                literal(now, tasks.c.created_at.type),
            )
            .join(Veteran, Veteran.id == Delivery.veteran_id)
            .join(
                InboxMessage,
                and_(
                    InboxMessage.notification_id == Delivery.notification_id,
                    InboxMessage.veteran_id == Delivery.veteran_id,
                ),
            )
            .where(
                Delivery.notification_id == campaign.notification_id,
                InboxMessage.acknowledged_at.is_(None),
                ~exists().where(tasks.c.delivery_id == Delivery.id),
            )
        )
        columns = ["veteran_id", "station_id", "notification_id", "delivery_id", "reason", "status", "created_at"]
        statement = (
            _insert(tasks).from_select(columns, source).on_conflict_do_nothing(index_elements=["delivery_id"])
        ).returning(tasks.c.id)
        added = len(db.session.execute(statement).all())
        db.session.execute(
            update(EducationCampaign)
            .where(EducationCampaign.id == campaign.id)
            .values(chased_at=now)
            .execution_options(synchronize_session=False)
        )
        audit(actor, "education.campaign_chased", campaign, tasks=added)
    db.session.refresh(campaign)
    return added


def overdue_campaigns(actor, today):
    """Sent campaigns in scope past their due date with a recipient still unacknowledged (a SELECT)."""
    pending = exists().where(
        InboxMessage.notification_id == EducationCampaign.notification_id, InboxMessage.acknowledged_at.is_(None)
    )
    query = select(EducationCampaign.id).where(
        EducationCampaign.state == "sent", EducationCampaign.due_on < today, pending
    )
    return scoped(query, actor, EducationCampaign.unit_id)


def count_overdue(*, actor, today, cap=100):
    """A capped count for the workbench card."""
    return capped_count(overdue_campaigns(actor, today), cap=cap)


@dataclass
class VeteranEducation:
    acknowledgements: list  # [(EducationCampaign, InboxMessage)]
    sessions: list  # [(EducationSession, EducationAttendance)]


def of_veteran(*, actor, veteran, limit=5):
    """The veteran's last campaigns (acknowledged or not) and the sessions they were recorded at."""
    require_permission(actor, "education.view")
    acks = db.session.execute(
        select(EducationCampaign, InboxMessage)
        .join(InboxMessage, InboxMessage.notification_id == EducationCampaign.notification_id)
        .where(InboxMessage.veteran_id == veteran.id)
        .order_by(InboxMessage.id.desc())
        .limit(limit)
    ).all()
    sessions = db.session.execute(
        select(EducationSession, EducationAttendance)
        .join(EducationAttendance, EducationAttendance.session_id == EducationSession.id)
        .where(EducationAttendance.veteran_id == veteran.id)
        .order_by(EducationSession.held_on.desc(), EducationSession.id.desc())
        .limit(limit)
    ).all()
    return VeteranEducation(list(acks), list(sessions))


def is_overdue(campaign, today):
    return campaign.state == "sent" and isinstance(campaign.due_on, date) and campaign.due_on < today
