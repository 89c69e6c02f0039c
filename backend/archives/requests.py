"""Lookup (查阅) and copy (复制) requests: filed by staff, decided by the center (never by whoever filed it), then the
lookup recorded. No lookup or copy without approval. Every step is audited and appended to the permanent log."""

from sqlalchemy import select

from backend.archives.common import (
    NotApproved,
    RequestStateInvalid,
    SameApprover,
    append_log,
    audit,
    fail_if,
    get_archive,
    get_request,
    require_in_custody,
    text,
)
from backend.archives.custody import items_of
from backend.archives.models import REQUEST_KINDS, REQUEST_STATES, Archive, ArchiveRequest
from backend.db import transaction, utcnow
from backend.errors import PermissionDenied
from backend.extensions import db
from backend.orgs.models import OrgUnit
from backend.orgs.scope import require_permission, scoped

OPEN = ("pending", "approved")


def file_request(*, actor, archive_id, kind, requester_kind, purpose, item_ids, requester_name="", requester_unit=""):
    """A request for an archive in custody; staff requests are the filer's own, outside ones name the person and unit.

    :raises PermissionDenied, ArchiveNotFound, ArchiveTransferred, ValidationFailed
    """
    require_permission(actor, "archives.request")
    errors = {}
    if kind not in REQUEST_KINDS:
        errors["kind"] = "请选择查阅或复制"
    if requester_kind == "staff":
        requester_name = actor.full_name
        requester_unit = db.session.scalar(select(OrgUnit.name).where(OrgUnit.id == actor.org_unit_id)) or ""
    elif requester_kind == "outside":
        requester_name, requester_unit = text(requester_name, 64), text(requester_unit, 100)
        if not requester_name:
            errors["requester_name"] = "请填写查阅人姓名"
        if not requester_unit:
            errors["requester_unit"] = "请填写查阅人所在单位"
    else:
        errors["requester_kind"] = "请选择申请人类别"
    purpose = text(purpose, 300)
    if not purpose:
        errors["purpose"] = "请填写查阅、复制事由"
    with transaction():
        archive = get_archive(actor=actor, archive_id=archive_id, permission="archives.request", lock=True)
        require_in_custody(archive)
        items = {i.id: i for i in items_of(archive.id)}
        chosen = sorted({n for n in (_item_id(i) for i in item_ids or ()) if n in items})
        if not chosen:
            errors["item_ids"] = "请选择要查阅、复制的材料"
        fail_if(errors)
        request = ArchiveRequest(
            archive_id=archive.id,
            station_id=archive.station_id,
            kind=kind,
            requester_kind=requester_kind,
            requester_name=requester_name,
            requester_unit=requester_unit,
            purpose=purpose,
            item_ids=chosen,
            requested_by_id=actor.id,
        )
        db.session.add(request)
        db.session.flush()
        append_log(archive, "requested", actor=actor, request=request, items=_titles(items, chosen), kind=kind)
        audit(actor, "archive_request", request.id, archive.station_id, action="archives.request_filed", kind=kind)
    return request


def _item_id(value):
    """An item id from a form value: ASCII digits only, bounded ("²" or a huge string never reaches int())."""
    value = str(value).strip()
    return int(value) if value.isascii() and value.isdigit() and len(value) <= 19 else None


def _titles(items, ids):
    return [f"{items[i].seq}. {items[i].title}" for i in ids if i in items]


def _open(actor, request_id, permission, states):
    request = get_request(actor=actor, request_id=request_id, permission=permission, lock=True)
    if request.state not in states:
        raise RequestStateInvalid(details={"state": request.state})
    archive = db.session.get(Archive, request.archive_id)
    return request, archive, {i.id: i for i in items_of(archive.id)}


def decide(*, actor, request_id, approve, note=""):
    """The center approves or rejects a pending request. Maker–checker: whoever filed it may not decide it.

    :raises PermissionDenied, RequestNotFound, RequestStateInvalid, SameApprover, ArchiveTransferred
    """
    require_permission(actor, "archives.approve")
    note = text(note, 300)
    if not approve and not note:
        fail_if({"note": "请填写不予批准的原因"})
    with transaction():
        request, archive, items = _open(actor, request_id, "archives.approve", ("pending",))
        if request.requested_by_id == actor.id:
            raise SameApprover()
        if approve:
            require_in_custody(archive)
        request.state = "approved" if approve else "rejected"
        request.decided_by_id, request.decided_at, request.decision_note = actor.id, utcnow(), note or None
        event = "approved" if approve else "rejected"
        append_log(archive, event, actor=actor, request=request, items=_titles(items, request.item_ids), note=note)
        if approve:
            audit(actor, "archive_request", request.id, archive.station_id, action="archives.request_approved")
        else:
            audit(
                actor, "archive_request", request.id, archive.station_id, action="archives.request_rejected", note=note
            )
    return request


def cancel(*, actor, request_id, reason=""):
    """Withdraw a pending or approved request: the filer, or an approver. :raises RequestStateInvalid:"""
    require_permission(actor, "archives.request")
    with transaction():
        request, archive, items = _open(actor, request_id, "archives.request", OPEN)
        if request.requested_by_id != actor.id and not actor.can("archives.approve"):
            raise PermissionDenied(details={"permission": "archives.approve"})
        request.state = "cancelled"
        reason = text(reason, 300)
        append_log(
            archive, "cancelled", actor=actor, request=request, items=_titles(items, request.item_ids), note=reason
        )
        audit(actor, "archive_request", request.id, archive.station_id, action="archives.request_cancelled")
    return request


def record_lookup(*, actor, request_id, copied=""):
    """The approved lookup took place (and for a copy, what was copied): the request is done.

    :raises NotApproved: the request is not approved (pending, rejected, cancelled or already done).
    """
    require_permission(actor, "archives.request")
    copied = text(copied, 300)
    with transaction():
        request = get_request(actor=actor, request_id=request_id, permission="archives.request", lock=True)
        if request.state != "approved":
            raise NotApproved(details={"state": request.state})
        archive = db.session.get(Archive, request.archive_id)
        require_in_custody(archive)
        if request.kind == "copy" and not copied:
            fail_if({"copied": "请填写复制的材料及份数"})
        items = {i.id: i for i in items_of(archive.id)}
        titles = _titles(items, request.item_ids)
        request.state, request.looked_up_at, request.done_by_id = "done", utcnow(), actor.id
        request.copied = copied or None
        append_log(archive, "looked_up", actor=actor, request=request, items=titles)
        if request.kind == "copy":
            append_log(archive, "copied", actor=actor, request=request, items=titles, copied=copied)
        audit(actor, "archive_request", request.id, archive.station_id, action="archives.looked_up", kind=request.kind)
    return request


def requests_of(archive_id):
    return db.session.scalars(
        select(ArchiveRequest).where(ArchiveRequest.archive_id == archive_id).order_by(ArchiveRequest.id.desc())
    ).all()


def list_requests(*, actor, state=None, after=None, before=None, limit=50):
    """Requests in scope. `state="pending"` (the approvers' to-do list) pages oldest first by `after`; otherwise
    newest first by `before`. Returns (rows, next cursor)."""
    require_permission(actor, "archives.view")
    query = scoped(select(ArchiveRequest), actor, ArchiveRequest.station_id)
    if state in REQUEST_STATES:
        query = query.where(ArchiveRequest.state == state)
    if state == "pending":
        if after:
            query = query.where(ArchiveRequest.id > after)
        rows = db.session.scalars(query.order_by(ArchiveRequest.id).limit(limit + 1)).all()
    else:
        if before:
            query = query.where(ArchiveRequest.id < before)
        rows = db.session.scalars(query.order_by(ArchiveRequest.id.desc()).limit(limit + 1)).all()
    return rows[:limit], (rows[limit - 1].id if len(rows) > limit else None)


def pending_count(actor, cap=100):
    """Pending requests in scope that `actor` could decide (not their own), capped."""
    query = scoped(select(ArchiveRequest.id), actor, ArchiveRequest.station_id).where(
        ArchiveRequest.state == "pending", ArchiveRequest.requested_by_id != actor.id
    )
    return len(db.session.scalars(query.limit(cap + 1)).all())
