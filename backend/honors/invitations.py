"""Invitations to celebrations (Art. 11): staff invite every active veteran of a unit's subtree (optionally party
members only) and/or veterans they pick, set-based in batches with the (ceremony, veteran) uniqueness skipping whoever
is invited already; the new invitees are told through the notification pipeline ("invitation"). The veteran replies
on the phone until the reply date (CST, end of day) or the ceremony's time; staff record a reply taken by phone.
"""

from sqlalchemy import literal, select
from sqlalchemy.dialects import postgresql, sqlite

from backend import denials
from backend.db import transaction, utcnow
from backend.extensions import db
from backend.honors import rules
from backend.honors.ceremonies import get_ceremony
from backend.honors.models import Ceremony, Invitation
from backend.honors.rules import InvitationNotFound, RsvpClosed
from backend.notifications.events import notify
from backend.orgs.models import OrgUnit
from backend.orgs.scope import get_unit_in_scope, require_permission, subtree_unit_ids
from backend.registration.windows import CST
from backend.veterans.models import Veteran
from backend.veterans.queries import path_range

BATCH = 1000  # veterans per INSERT … SELECT and per notification
MAX_PICKED = 200


def _insert():
    dialect = db.session.get_bind().dialect.name
    return (postgresql if dialect == "postgresql" else sqlite).insert(Invitation.__table__)


def _insert_batch(ceremony, conditions, first_id, last_id, now):
    """INSERT … SELECT the veterans matching `conditions` with ids in [first_id, last_id]; already invited ones are
    skipped by the unique constraint. Returns the ids of the veterans newly invited."""
    table = Invitation.__table__
    source = select(
        literal(ceremony.id, table.c.ceremony_id.type),
        Veteran.id,
        literal("invited"),
        literal(0),
        literal(now, table.c.created_at.type),
    ).where(Veteran.id >= first_id, Veteran.id <= last_id, *conditions)
    statement = (
        _insert()
        .from_select(["ceremony_id", "veteran_id", "status", "guests", "created_at"], source)
        .on_conflict_do_nothing(index_elements=["ceremony_id", "veteran_id"])
        .returning(table.c.veteran_id)
    )
    return db.session.scalars(statement).all()


def _batches(conditions):
    """The ids of the veterans matching `conditions`, BATCH at a time, keyset by id: yields (first, last)."""
    after = 0
    while True:
        ids = db.session.scalars(
            select(Veteran.id).where(Veteran.id > after, *conditions).order_by(Veteran.id).limit(BATCH)
        ).all()
        if not ids:
            return
        yield ids[0], ids[-1]
        after = ids[-1]


def _tell(ceremony, veteran_ids):
    when = rules.cst(ceremony.held_at).strftime("%Y年%m月%d日 %H:%M")
    reply = "，请在小程序中回复是否参加"
    if ceremony.rsvp_by:
        reply = f"，请于{ceremony.rsvp_by.isoformat()}前在小程序中回复是否参加"
    for start in range(0, len(veteran_ids), BATCH):
        notify(
            "invitation",
            veteran_ids[start : start + BATCH],
            title=f"邀请您参加{ceremony.title}"[:100],
            body=f"诚挚邀请您于{when}到{ceremony.place}参加{ceremony.title}{reply}。",
            link=rules.INVITATIONS_PAGE,
            values={"结果": "诚挚邀请"},
            sender_unit_id=ceremony.unit_id,
        )


def invite(*, actor, ceremony_id, unit_id=None, party_only=False, veteran_ids=(), now=None):
    """Invite the active veterans of unit `unit_id`'s subtree (party members only if asked) and the picked
    `veteran_ids`, all within the actor's scope. Returns (newly invited, already invited or out of reach).

    :raises PermissionDenied, CeremonyNotFound, OrgUnitNotFound, ValidationFailed:
    """
    picked = sorted({_id(v) for v in veteran_ids} - {0})
    if not unit_id and not picked:
        rules.raise_errors({"unit_id": "请选择邀请的单位或退役军人"})
    if len(picked) > MAX_PICKED:
        rules.raise_errors({"veteran_ids": f"一次最多点选{MAX_PICKED}人，整体邀请请按单位选择"})
    now = now or utcnow()
    with transaction():
        ceremony = get_ceremony(actor=actor, ceremony_id=ceremony_id, permission="honors.manage", lock=True)
        if ceremony.kind != "celebration":
            rules.raise_errors({"ceremony": "欢迎仪式在接收安置中登记，无需邀请"})
        if now >= ceremony.held_at:
            raise RsvpClosed("活动已开始或已结束，不能再发出邀请")
        organiser = db.session.scalar(select(OrgUnit.path).where(OrgUnit.id == ceremony.unit_id))
        # Invitees lie in the actor's area and under the organiser: whoever sees the ceremony sees its invitees.
        active = [Veteran.status == "active", Veteran.unit_id.in_(subtree_unit_ids(actor)), *path_range(organiser)]
        invited = []
        if unit_id:
            unit = get_unit_in_scope(actor, unit_id)
            conditions = [*active, *path_range(unit.path)]
            if party_only:
                conditions.append(Veteran.party_member.is_(True))
            for first, last in _batches(conditions):
                invited += _insert_batch(ceremony, conditions, first, last, now)
        if picked:
            for start in range(0, len(picked), BATCH):
                chunk = picked[start : start + BATCH]
                invited += _insert_batch(ceremony, [*active, Veteran.id.in_(chunk)], chunk[0], chunk[-1], now)
        invited = sorted(set(invited))
        _tell(ceremony, invited)
        rules.audit(
            actor,
            "honors.invite",
            "ceremony",
            ceremony,
            ceremony.unit_id,
            unit_id=_id(unit_id) or None,
            party_only=bool(party_only),
            picked=len(picked),
            invited=len(invited),
        )
    return len(invited)


def get_invitation(*, actor, invitation_id, permission="honors.view", lock=False):
    """An invitation of a ceremony organised in the actor's scope, of a veteran in the actor's scope.

    :raises PermissionDenied, InvitationNotFound:"""
    require_permission(actor, permission)
    organised = select(Ceremony.id).where(Ceremony.unit_id.in_(subtree_unit_ids(actor)))
    veterans = select(Veteran.id).where(Veteran.unit_id.in_(subtree_unit_ids(actor)))
    query = select(Invitation).where(
        Invitation.id == _id(invitation_id), Invitation.ceremony_id.in_(organised), Invitation.veteran_id.in_(veterans)
    )
    if lock:
        query = query.with_for_update(of=Invitation)
    found = db.session.scalars(query).first()
    if found is None:
        if denials.exists(Invitation, _id(invitation_id)):
            raise denials.mark(InvitationNotFound(), object_type="invitation", object_id=_id(invitation_id))
        raise InvitationNotFound()
    return found


def _id(value):
    """A positive BIGINT id from an int or a string of ASCII digits, else 0 ("²" or a huge string never reaches
    int())."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value if 0 < value < 2**62 else 0
    value = str(value or "").strip()
    if not (value.isascii() and value.isdigit() and len(value) <= 19):
        return 0
    value = int(value)
    return value if 0 < value < 2**62 else 0


def _check_reply(attending, guests):
    errors = {}
    if not isinstance(attending, bool):
        errors["attending"] = "请选择是否参加"
    if not isinstance(guests, int) or isinstance(guests, bool) or not 0 <= guests <= rules.MAX_GUESTS:
        errors["guests"] = f"随行人数须为0至{rules.MAX_GUESTS}人"
    rules.raise_errors(errors)
    return ("accepted" if attending else "declined"), (guests if attending else 0)


def _apply(invitation, status, guests, now, recorded_by_id):
    invitation.status, invitation.guests = status, guests
    invitation.responded_at, invitation.recorded_by_id = now, recorded_by_id


def record_reply(*, actor, invitation_id, attending, guests=0, now=None):
    """Staff record a reply the veteran gave by phone or in person, until the ceremony starts.

    :raises PermissionDenied, InvitationNotFound, ValidationFailed, RsvpClosed:
    """
    status, guests = _check_reply(attending, guests)
    now = now or utcnow()
    with transaction():
        invitation = get_invitation(actor=actor, invitation_id=invitation_id, permission="honors.manage", lock=True)
        ceremony = db.session.get(Ceremony, invitation.ceremony_id)
        if now >= ceremony.held_at:
            raise RsvpClosed("活动已开始或已结束，不能再登记回复")
        previous = invitation.status
        _apply(invitation, status, guests, now, actor.id)
        rules.audit(
            actor,
            "honors.reply_record",
            "invitation",
            invitation,
            ceremony.unit_id,
            ceremony_id=ceremony.id,
            veteran_id=invitation.veteran_id,
            status=status,
            previous=previous,
            guests=guests,
        )
    return invitation


# --- the phone


def get_own(*, veteran_id, invitation_id, lock=False):
    """(invitation, ceremony) of the veteran; another's is the same 404 as a missing one. :raises
    InvitationNotFound:"""
    query = (
        select(Invitation, Ceremony)
        .join(Ceremony, Ceremony.id == Invitation.ceremony_id)
        .where(Invitation.id == _id(invitation_id), Invitation.veteran_id == veteran_id)
    )
    if lock:
        query = query.with_for_update(of=Invitation)
    row = db.session.execute(query).first()
    if row is None:
        if denials.exists(Invitation, _id(invitation_id)):
            raise denials.mark(InvitationNotFound(), object_type="invitation", object_id=_id(invitation_id))
        raise InvitationNotFound()
    return tuple(row)


def list_own(*, veteran_id, cursor=None, limit=20):
    """The veteran's invitations, newest first, keyset by id: ([(invitation, ceremony)], next_cursor)."""
    query = (
        select(Invitation, Ceremony)
        .join(Ceremony, Ceremony.id == Invitation.ceremony_id)
        .where(Invitation.veteran_id == veteran_id)
    )
    if cursor:
        query = query.where(Invitation.id < cursor)
    rows = db.session.execute(query.order_by(Invitation.id.desc()).limit(limit + 1)).all()
    return [tuple(r) for r in rows[:limit]], (rows[limit - 1][0].id if len(rows) > limit else None)


def rsvp(*, account, invitation_id, attending, guests=0, now=None):
    """The veteran's reply; changeable until the reply closes. :raises InvitationNotFound, ValidationFailed,
    RsvpClosed:"""
    status, guests = _check_reply(attending, guests)
    now = now or utcnow()
    with transaction():
        invitation, ceremony = get_own(veteran_id=account.veteran_id, invitation_id=invitation_id, lock=True)
        if ceremony.kind != "celebration" or not rules.reply_open(ceremony, now):
            closes = rules.reply_closes_at(ceremony).astimezone(CST)
            raise RsvpClosed(details={"closed_at": closes.isoformat()})
        changed = (invitation.status, invitation.guests) != (status, guests)
        if changed:
            previous = invitation.status
            _apply(invitation, status, guests, now, None)
            rules.audit(
                account,
                "honors.rsvp",
                "invitation",
                invitation,
                ceremony.unit_id,
                ceremony_id=ceremony.id,
                status=status,
                previous=previous,
                guests=guests,
            )
    return invitation, ceremony


def of_veteran(veteran_id, limit=20):
    """The veteran's latest invitations for their page: [(invitation, ceremony)]."""
    return db.session.execute(
        select(Invitation, Ceremony)
        .join(Ceremony, Ceremony.id == Invitation.ceremony_id)
        .where(Invitation.veteran_id == veteran_id)
        .order_by(Invitation.id.desc())
        .limit(limit)
    ).all()
