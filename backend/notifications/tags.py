"""Veteran tags (重点关注, 高龄, 困难 …): set on the veteran's page, used to pick notification recipients."""

import re

from sqlalchemy import delete, insert, select

from backend.audit import service as audit_service
from backend.db import transaction
from backend.errors import ValidationFailed
from backend.extensions import db
from backend.names import clean_name
from backend.notifications.models import VeteranTag
from backend.veterans import service as veterans_service
from backend.veterans.models import Veteran
from backend.veterans.queries import path_range

MAX_TAGS = 10
MAX_LENGTH = 20
KNOWN_LIMIT = 200
# Separators a clerk types between tags: commas (both widths), 、, semicolons, whitespace.
_SPLIT = re.compile(r"[,，、;；\s]+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def parse_tags(text):
    """Tags typed into one field, split on commas, 、 or spaces."""
    return _SPLIT.split(text if isinstance(text, str) else "")


def clean_tags(tags):
    """Trimmed, without control or bidi characters, without empties and repeats, in the order given.

    :raises ValidationFailed: more than MAX_TAGS tags, or a tag longer than MAX_LENGTH characters
    """
    cleaned = []
    for tag in tags or ():
        tag = clean_name(_CONTROL.sub("", tag if isinstance(tag, str) else ""))
        if tag and tag not in cleaned:
            cleaned.append(tag)
    if len(cleaned) > MAX_TAGS:
        raise ValidationFailed(details={"tags": f"标签最多{MAX_TAGS}个"})
    if any(len(tag) > MAX_LENGTH for tag in cleaned):
        raise ValidationFailed(details={"tags": f"每个标签不超过{MAX_LENGTH}个字"})
    return cleaned


def list_tags(veteran_id):
    """The veteran's tags, sorted (the caller has checked the veteran is in scope)."""
    return sorted(db.session.scalars(select(VeteranTag.tag).where(VeteranTag.veteran_id == veteran_id)))


def set_tags(*, actor, veteran_id, tags):
    """Replace the veteran's tags with `tags` (only the difference is written); audited when something changed.

    :returns: the tags now set, sorted
    :raises PermissionDenied, VeteranNotFound (outside the scope), ValidationFailed
    """
    wanted = clean_tags(tags)
    with transaction():
        # the veteran's row lock serializes two edits of the same tags (no duplicate-key race on PostgreSQL)
        veteran = veterans_service.get_veteran(
            actor=actor, veteran_id=veteran_id, permission="veterans.edit", lock=True
        )
        current = set(list_tags(veteran.id))
        added, removed = sorted(set(wanted) - current), sorted(current - set(wanted))
        if removed:
            db.session.execute(
                delete(VeteranTag).where(VeteranTag.veteran_id == veteran.id, VeteranTag.tag.in_(removed))
            )
        if added:
            db.session.execute(insert(VeteranTag), [{"veteran_id": veteran.id, "tag": tag} for tag in added])
        if added or removed:
            audit_service.record(
                actor=actor,
                action="veterans.tags",
                object_type="veteran",
                object_id=veteran.id,
                details={"added": added, "removed": removed},
            )
    return sorted(wanted)


def known_tags(actor, limit=KNOWN_LIMIT):
    """The distinct tags of veterans in the actor's subtree, sorted, at most `limit` (the compose form's choices)."""
    query = (
        select(VeteranTag.tag)
        .join(Veteran, Veteran.id == VeteranTag.veteran_id)
        .where(*path_range(actor.scope_path))
        .distinct()
        .order_by(VeteranTag.tag)
        .limit(limit)
    )
    return sorted(db.session.scalars(query))  # code point order on every engine, whatever the collation
