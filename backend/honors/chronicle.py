"""Inclusion in the local chronicle (编入地方志, Art. 11): staff with honors.manage propose a veteran in scope with the
reason; a center reviewer (honors.review) who did not propose it accepts it with the entry's text and the volume, or
rejects it with a note. One entry per veteran: a rejected proposal may be proposed again, which reopens it. The
review carries the version the reviewer saw: a proposal changed since is a stale update, nothing is written."""

from sqlalchemy import select

from backend.db import transaction, utcnow
from backend.errors import StaleUpdate
from backend.extensions import db
from backend.honors import rules
from backend.honors.models import CHRONICLE_STATES, ChronicleEntry
from backend.honors.rules import ChronicleExists, ChronicleNotFound, ChronicleStateInvalid, ReviewerIsProposer
from backend.orgs.scope import get_scoped, require_permission, scoped
from backend.veterans.models import Veteran
from backend.veterans.service import VeteranNotFound


def propose(*, actor, veteran_id, reason):
    """A veteran in scope proposed for the local chronicle. :raises PermissionDenied, VeteranNotFound,
    ValidationFailed, ChronicleExists:"""
    require_permission(actor, "honors.manage")
    with transaction():
        veteran = get_scoped(Veteran, veteran_id, actor=actor, unit_column=Veteran.unit_id, not_found=VeteranNotFound)
        errors = {}
        reason = rules.text({"reason": reason}, errors, "reason", "推荐理由", 500, required=True)
        rules.raise_errors(errors)
        entry = db.session.scalars(
            select(ChronicleEntry).where(ChronicleEntry.veteran_id == veteran.id).with_for_update()
        ).first()
        if entry is not None and entry.status != "rejected":
            raise ChronicleExists(details={"entry_id": entry.id, "status": entry.status})
        if entry is None:
            entry = ChronicleEntry(veteran_id=veteran.id, station_id=veteran.station_id, status="candidate")
            db.session.add(entry)
        else:  # a rejected proposal reopened: the earlier review is cleared, the audit log keeps it
            entry.status, entry.station_id = "candidate", veteran.station_id
            entry.entry_text = entry.volume = entry.review_note = None
            entry.reviewed_by_id = entry.reviewed_at = None
        entry.reason, entry.proposed_by_id, entry.proposed_at = reason, actor.id, utcnow()
        db.session.flush()
        rules.audit(
            actor, "honors.chronicle_propose", "chronicle_entry", entry, entry.station_id, veteran_id=veteran.id
        )
    return entry


def get_entry(*, actor, entry_id, permission="honors.view", lock=False):
    """The entry if its station lies in the actor's scope. :raises PermissionDenied, ChronicleNotFound:"""
    require_permission(actor, permission)
    return get_scoped(
        ChronicleEntry,
        entry_id,
        actor=actor,
        unit_column=ChronicleEntry.station_id,
        not_found=ChronicleNotFound,
        lock=lock,
    )


def _reviewable(actor, entry_id, version):
    entry = get_entry(actor=actor, entry_id=entry_id, permission="honors.review", lock=True)
    if entry.proposed_by_id == actor.id:
        raise ReviewerIsProposer()
    try:
        version = int(version)
    except (TypeError, ValueError):
        version = None
    if version != entry.version_id:
        raise StaleUpdate("该推荐刚被他人处理或重新推荐，请刷新后再审核")
    if entry.status != "candidate":
        raise ChronicleStateInvalid(details={"status": entry.status})
    return entry


def accept(*, actor, entry_id, version, entry_text, volume):
    """candidate → accepted with the entry's text and the volume. :raises PermissionDenied, ChronicleNotFound,
    ReviewerIsProposer, StaleUpdate, ChronicleStateInvalid, ValidationFailed:"""
    with transaction():
        entry = _reviewable(actor, entry_id, version)
        errors = {}
        values = {"entry_text": entry_text, "volume": volume}
        text = rules.text(values, errors, "entry_text", "入志条目内容", 4000, required=True)
        volume = rules.text(values, errors, "volume", "志书卷册", 100, required=True)
        rules.raise_errors(errors)
        entry.status, entry.entry_text, entry.volume = "accepted", text, volume
        entry.reviewed_by_id, entry.reviewed_at = actor.id, utcnow()
        db.session.flush()  # the version check of the row (a concurrent writer makes it a stale update)
        rules.audit(
            actor, "honors.chronicle_accept", "chronicle_entry", entry, entry.station_id, veteran_id=entry.veteran_id
        )
    return entry


def reject(*, actor, entry_id, version, note):
    """candidate → rejected with a note. :raises as accept:"""
    with transaction():
        entry = _reviewable(actor, entry_id, version)
        errors = {}
        note = rules.text({"note": note}, errors, "note", "审核意见", 300, required=True)
        rules.raise_errors(errors)
        entry.status, entry.review_note = "rejected", note
        entry.reviewed_by_id, entry.reviewed_at = actor.id, utcnow()
        db.session.flush()
        rules.audit(
            actor, "honors.chronicle_reject", "chronicle_entry", entry, entry.station_id, veteran_id=entry.veteran_id
        )
    return entry


def list_entries(*, actor, status=None, before=None, limit=rules.PAGE):
    """Entries in scope, newest first, keyset by id: ([(entry, veteran name)], next_before)."""
    require_permission(actor, "honors.view")
    query = scoped(select(ChronicleEntry, Veteran.name), actor, ChronicleEntry.station_id).join(
        Veteran, Veteran.id == ChronicleEntry.veteran_id
    )
    if status in CHRONICLE_STATES:
        query = query.where(ChronicleEntry.status == status)
    if before:
        query = query.where(ChronicleEntry.id < before)
    rows = db.session.execute(query.order_by(ChronicleEntry.id.desc()).limit(limit + 1)).all()
    return [tuple(r) for r in rows[:limit]], (rows[limit - 1][0].id if len(rows) > limit else None)


def awaiting_review(actor):
    """A SELECT of the candidates in scope the actor may review (proposed by someone else), for the workbench."""
    return scoped(
        select(ChronicleEntry.id).where(
            ChronicleEntry.status == "candidate", ChronicleEntry.proposed_by_id != actor.id
        ),
        actor,
        ChronicleEntry.station_id,
    )


def of_veteran(veteran_id):
    return db.session.scalars(select(ChronicleEntry).where(ChronicleEntry.veteran_id == veteran_id)).first()
