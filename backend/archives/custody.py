"""Custody of personnel archives: custody locations, intake (入档) with the item list, more items, transfer out (转接).

Every write is scoped (a veteran, a location, an archive in the actor's subtree), audited, and the intake and the
transfer append to the permanent log. Reads of the register page by keyset.
"""

import re
from datetime import timedelta

from sqlalchemy import func, select

from backend.archives.common import (
    ArchiveExists,
    OpenRequests,
    append_log,
    audit,
    fail_if,
    get_archive,
    get_location,
    parse_date,
    require_in_custody,
    text,
)
from backend.archives.models import Archive, ArchiveItem, ArchiveLocation, ArchiveRequest
from backend.db import transaction
from backend.errors import ValidationFailed
from backend.extensions import db
from backend.orgs.models import OrgUnit
from backend.orgs.scope import get_scoped, get_unit_in_scope, require_permission, scoped
from backend.registration.windows import today_cst
from backend.veterans.models import Veteran
from backend.veterans.service import VeteranNotFound

MAX_ITEMS = 200
CHECKED_WORDS = {"是", "✓", "√", "y", "yes", "1", "已核", "已核对", "true", "x", "有"}
_SPLIT = re.compile(r"\t|\s*\|\s*")


# --- custody locations


def _digits(value, width):
    """A non-negative int from at most `width` ASCII digits, else None ("²", "١٢" and huge strings never reach
    int())."""
    value = str(value or "").strip()
    return int(value) if value.isascii() and value.isdigit() and len(value) <= width else None


def _interval(value, errors):
    days = _digits(value, 3) or 0
    if not 7 <= days <= 366:
        errors["interval_days"] = "检查周期为7至366天"
    return days


def create_location(*, actor, unit_id, name, interval_days):
    """A custody place of a unit in scope; the first inspection is due one interval from today."""
    require_permission(actor, "archives.manage")
    errors = {}
    name = text(name, 60)
    if not name:
        errors["name"] = "请填写存放地点名称"
    days = _interval(interval_days, errors)
    fail_if(errors)
    with transaction():
        unit = get_unit_in_scope(actor, unit_id or actor.org_unit_id)
        taken = db.session.scalar(
            select(ArchiveLocation.id).where(ArchiveLocation.unit_id == unit.id, ArchiveLocation.name == name)
        )
        if taken:
            raise ValidationFailed(details={"name": "该单位已有同名存放地点"})
        location = ArchiveLocation(
            unit_id=unit.id, name=name, interval_days=days, next_due_on=today_cst() + timedelta(days=days)
        )
        db.session.add(location)
        db.session.flush()
        audit(actor, "archive_location", location.id, unit.id, action="archives.location_created", name=name, days=days)
    return location


def update_location(*, actor, location_id, interval_days, active=True):
    """A new inspection interval (next_due_on recomputed from the last inspection) or (de)activation."""
    errors = {}
    days = _interval(interval_days, errors)
    fail_if(errors)
    with transaction():
        location = get_location(actor=actor, location_id=location_id, permission="archives.manage", lock=True)
        # The base is the last inspection or, never inspected, the day the old schedule started: computed with the
        # old interval before the new one is saved.
        base = location.last_inspected_on or (location.next_due_on - timedelta(days=location.interval_days))
        location.interval_days, location.active = days, bool(active)
        location.next_due_on = base + timedelta(days=days)
        audit(
            actor,
            "archive_location",
            location.id,
            location.unit_id,
            action="archives.location_updated",
            days=days,
            active=location.active,
        )
    return location


def locations_for_station(actor, station_id):
    """Active locations in scope whose unit holds the station (the station itself or an ancestor)."""
    path = db.session.scalar(select(OrgUnit.path).where(OrgUnit.id == station_id)) or ""
    query = scoped(select(ArchiveLocation, OrgUnit.path), actor, ArchiveLocation.unit_id)
    query = query.join(OrgUnit, OrgUnit.id == ArchiveLocation.unit_id).where(ArchiveLocation.active.is_(True))
    return [
        loc for loc, unit_path in db.session.execute(query.order_by(ArchiveLocation.id)) if path.startswith(unit_path)
    ]


def active_locations(actor):
    require_permission(actor, "archives.view")
    query = scoped(select(ArchiveLocation), actor, ArchiveLocation.unit_id).where(ArchiveLocation.active.is_(True))
    return db.session.scalars(query.order_by(ArchiveLocation.name, ArchiveLocation.id)).all()


# --- the item list (材料目录)


def parse_items(lines, rows=(), *, start=1):
    """Item dicts from pasted lines ("序号<TAB>标题<TAB>页数<TAB>核对<TAB>备注", or "|"-separated, or just a title)
    and from form rows (dicts with seq/title/pages/checked/note). Missing numbers continue from `start`."""
    raw = []
    for line in (lines or "").splitlines()[: MAX_ITEMS + 1]:
        if not line.strip():
            continue
        parts = [p.strip() for p in _SPLIT.split(line.strip())]
        if len(parts) == 1 or not parts[0].isdigit():
            parts = ["", *parts]
        parts += [""] * (5 - len(parts))
        raw.append(
            {
                "seq": parts[0],
                "title": parts[1],
                "pages": parts[2],
                "checked": parts[3].lower() in CHECKED_WORDS,
                "note": "｜".join(p for p in parts[4:] if p),
            }
        )
    raw += [r for r in rows if (r.get("title") or "").strip()]
    items, errors, seen, next_seq = [], {}, set(), start
    for n, r in enumerate(raw, 1):
        raw_seq = str(r.get("seq") or "").strip()
        seq = _digits(raw_seq, 5)
        if raw_seq and not seq:
            errors[f"item{n}"] = f"第{n}条材料的序号不正确（1至99999）"
        seq = seq or next_seq
        title = text(r.get("title"), 100)
        raw_pages = str(r.get("pages") or "").strip()
        pages = _digits(raw_pages, 4)
        if raw_pages and not pages:
            errors[f"item{n}"] = f"第{n}条材料的页数不正确（1至9999）"
        if seq in seen:
            errors[f"item{n}"] = f"第{n}条材料的序号 {seq} 重复"
        if not title:
            errors[f"item{n}"] = f"第{n}条材料缺少名称"
        seen.add(seq)
        next_seq = max(next_seq, seq + 1)
        items.append(
            {
                "seq": seq,
                "title": title,
                "pages": pages or None,
                "checked": bool(r.get("checked")),
                "note": text(r.get("note"), 200) or None,
            }
        )
    if len(items) > MAX_ITEMS:
        errors["items"] = f"材料目录最多{MAX_ITEMS}条"
    return items, errors


def items_of(archive_id):
    return db.session.scalars(select(ArchiveItem).where(ArchiveItem.archive_id == archive_id).order_by(ArchiveItem.seq))


# --- intake


def intake(*, actor, veteran_id, received_on, received_from, location_id, cabinet, shelf, note, lines="", rows=()):
    """Receive a veteran's archive: custody place, who sent it, and its checked item list. Logged permanently;
    completes the veteran's onboarding step "archive_intake" when a case is open.

    :raises PermissionDenied, VeteranNotFound, LocationNotFound, ArchiveExists, ValidationFailed
    """
    from backend.onboarding.links import step_done_elsewhere

    require_permission(actor, "archives.manage")
    errors = {}
    received = parse_date(received_on, "received_on", errors, label="接收日期")
    received_from = text(received_from, 100)
    if not received_from:
        errors["received_from"] = "请填写移交单位"
    items, item_errors = parse_items(lines, rows)
    errors.update(item_errors)
    if not items and not item_errors:
        errors["items"] = "请填写材料目录（至少一条）"
    fail_if(errors)
    with transaction():
        veteran = get_scoped(Veteran, veteran_id, actor=actor, unit_column=Veteran.unit_id, not_found=VeteranNotFound)
        if db.session.scalar(select(Archive.id).where(Archive.veteran_id == veteran.id)):
            raise ArchiveExists()
        location = get_location(actor=actor, location_id=location_id, permission="archives.manage")
        if location.id not in {loc.id for loc in locations_for_station(actor, veteran.station_id)}:
            raise ValidationFailed(details={"location_id": "请选择该退役军人所属服务中心的存放地点"})
        archive = Archive(
            veteran_id=veteran.id,
            station_id=veteran.station_id,
            received_on=received,
            received_from=received_from,
            received_by_id=actor.id,
            location_id=location.id,
            cabinet=text(cabinet, 30) or None,
            shelf=text(shelf, 30) or None,
            note=text(note, 500) or None,
        )
        db.session.add(archive)
        db.session.flush()
        db.session.add_all(ArchiveItem(archive_id=archive.id, **item) for item in items)
        unchecked = sum(1 for i in items if not i["checked"])
        append_log(
            archive,
            "intake",
            actor=actor,
            items=[i["title"] for i in items],
            unchecked=unchecked,
            location=location.name,
        )
        audit(
            actor,
            "archive",
            archive.id,
            archive.station_id,
            action="archives.intake",
            items=len(items),
            unchecked=unchecked,
        )
        step_done_elsewhere(
            actor=actor, veteran_id=veteran.id, step="archive_intake", done_on=received, note="档案已入档"
        )
    return archive


def add_items(*, actor, archive_id, lines="", rows=()):
    """More rows of the item list after intake (numbers continue). :raises ArchiveTransferred, ValidationFailed:"""
    with transaction():
        archive = get_archive(actor=actor, archive_id=archive_id, permission="archives.manage", lock=True)
        require_in_custody(archive)
        existing = {i.seq for i in items_of(archive.id)}
        items, errors = parse_items(lines, rows, start=max(existing, default=0) + 1)
        clash = [i["seq"] for i in items if i["seq"] in existing]
        if clash:
            errors["items"] = f"序号 {clash[0]} 已存在"
        if not items and not errors:
            errors["items"] = "请填写要补充的材料"
        if len(existing) + len(items) > MAX_ITEMS:
            errors["items"] = f"材料目录最多{MAX_ITEMS}条"
        fail_if(errors)
        db.session.add_all(ArchiveItem(archive_id=archive.id, **item) for item in items)
        audit(actor, "archive", archive.id, archive.station_id, action="archives.items_added", items=len(items))
    return items


# --- transfer out


def transfer_out(*, actor, archive_id, transferred_to, transferred_on, receipt):
    """The archive leaves with the receiving unit's receipt: state transferred_out, logged and audited.

    :raises ArchiveTransferred, OpenRequests, ValidationFailed
    """
    errors = {}
    to = text(transferred_to, 100)
    if not to:
        errors["transferred_to"] = "请填写接收单位"
    on = parse_date(transferred_on, "transferred_on", errors, label="转出日期")
    receipt = text(receipt, 64)
    if not receipt:
        errors["receipt"] = "请填写回执编号"
    fail_if(errors)
    with transaction():
        archive = get_archive(actor=actor, archive_id=archive_id, permission="archives.manage", lock=True)
        require_in_custody(archive)
        open_requests = db.session.scalar(
            select(func.count()).where(
                ArchiveRequest.archive_id == archive.id, ArchiveRequest.state.in_(("pending", "approved"))
            )
        )
        if open_requests:
            raise OpenRequests(details={"open": open_requests})
        archive.state, archive.transferred_to, archive.transferred_on = "transferred_out", to, on
        archive.transfer_receipt, archive.transferred_by_id = receipt, actor.id
        append_log(archive, "transferred_out", actor=actor, to=to, on=on.isoformat(), receipt=receipt)
        audit(
            actor, "archive", archive.id, archive.station_id, action="archives.transferred_out", to=to, receipt=receipt
        )
    return archive


# --- the register


def list_archives(*, actor, state=None, location_id=None, name=None, before=None, limit=50):
    """Archives in scope, newest first, keyset by id: (rows of (Archive, veteran name), next_before)."""
    require_permission(actor, "archives.view")
    query = scoped(select(Archive, Veteran.name), actor, Archive.station_id).join(
        Veteran, Veteran.id == Archive.veteran_id
    )
    if state:
        query = query.where(Archive.state == state)
    if location_id:
        query = query.where(Archive.location_id == location_id)
    name = text(name, 64)
    if name:
        query = query.where(Veteran.name.startswith(name, autoescape=True))
    if before:
        query = query.where(Archive.id < before)
    rows = db.session.execute(query.order_by(Archive.id.desc()).limit(limit + 1)).all()
    return rows[:limit], (rows[limit - 1][0].id if len(rows) > limit else None)


def find_veterans_without_archive(*, actor, name, limit=20):
    """Veterans in scope whose name starts with `name` and who have no archive yet (the intake form's search)."""
    require_permission(actor, "archives.manage")
    name = text(name, 64)
    if not name:
        return []
    query = scoped(select(Veteran), actor, Veteran.unit_id).where(
        Veteran.name.startswith(name, autoescape=True), ~Veteran.id.in_(select(Archive.veteran_id))
    )
    return db.session.scalars(query.order_by(Veteran.name, Veteran.id).limit(limit)).all()


def archive_of_veteran(veteran_id):
    return db.session.scalars(select(Archive).where(Archive.veteran_id == veteran_id)).first()
