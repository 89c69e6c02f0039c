"""notifications slice (issue 13): veteran tags — cleaned, bounded, scoped, audited; the form on the veteran's page;
the tags in scope for the compose form."""

import pytest
from sqlalchemy import select

from backend.audit.models import AuditLog
from backend.errors import PermissionDenied, ValidationFailed
from backend.extensions import db
from backend.notifications import tags
from backend.veterans.service import VeteranNotFound
from tests.factories import create_veteran
from tests.helpers import portal_as


def _audits(veteran):
    query = select(AuditLog).where(AuditLog.action == "veterans.tags", AuditLog.object_id == str(veteran.id))
    return db.session.scalars(query.order_by(AuditLog.id)).all()


def test_set_tags_cleans_dedupes_writes_the_difference_and_audits(world):
    veteran = create_veteran(station=world.x1)
    typed = [" 高龄 ", "重点关注", "高龄", "", "困\u202e难"]
    result = tags.set_tags(actor=world.staff_x, veteran_id=veteran.id, tags=typed)
    assert result == sorted(["高龄", "重点关注", "困难"]) == tags.list_tags(veteran.id)
    tags.set_tags(actor=world.staff_x, veteran_id=veteran.id, tags=["高龄", "困难", "独居"])
    assert tags.list_tags(veteran.id) == sorted(["高龄", "困难", "独居"])
    tags.set_tags(actor=world.staff_x, veteran_id=veteran.id, tags=["独居", "困难", "高龄"])  # no change: no audit
    rows = _audits(veteran)
    assert len(rows) == 2
    assert rows[1].details == {"added": ["独居"], "removed": ["重点关注"]}


@pytest.mark.parametrize(
    "bad, message",
    [([f"标签{i}" for i in range(11)], "标签最多10个"), (["长" * 21], "每个标签不超过20个字")],
)
def test_set_tags_refuses_too_many_or_too_long(world, bad, message):
    veteran = create_veteran(station=world.x1)
    with pytest.raises(ValidationFailed) as raised:
        tags.set_tags(actor=world.staff_x, veteran_id=veteran.id, tags=bad)
    assert raised.value.details == {"tags": message}
    assert tags.list_tags(veteran.id) == []


def test_set_tags_is_scoped_and_needs_veterans_edit(world):
    veteran = create_veteran(station=world.x1)
    with pytest.raises(VeteranNotFound):
        tags.set_tags(actor=world.staff_y, veteran_id=veteran.id, tags=["高龄"])
    with pytest.raises(PermissionDenied):
        tags.set_tags(actor=world.supervisor_parent, veteran_id=veteran.id, tags=["高龄"])
    assert tags.list_tags(veteran.id) == []


def test_parse_tags_splits_on_commas_and_spaces():
    assert tags.parse_tags("高龄，重点关注、困难 独居;党员,") == ["高龄", "重点关注", "困难", "独居", "党员", ""]
    assert tags.parse_tags(None) == [""]


def test_known_tags_are_the_distinct_tags_in_scope(world):
    x_vets = [create_veteran(station=world.x1) for _ in range(2)]
    y_vet = create_veteran(station=world.y1)
    tags.set_tags(actor=world.staff_x, veteran_id=x_vets[0].id, tags=["高龄", "困难"])
    tags.set_tags(actor=world.staff_x, veteran_id=x_vets[1].id, tags=["高龄"])
    tags.set_tags(actor=world.staff_y, veteran_id=y_vet.id, tags=["滨河"])
    assert tags.known_tags(world.staff_x) == sorted(["高龄", "困难"])
    assert tags.known_tags(world.staff_y) == ["滨河"]
    assert tags.known_tags(world.supervisor_parent) == sorted(["高龄", "困难", "滨河"])
    assert len(tags.known_tags(world.supervisor_parent, limit=2)) == 2


def test_the_veteran_page_shows_and_edits_tags(world, portal_app):
    veteran = create_veteran(station=world.x1)
    client = portal_as(portal_app, world.staff_x)
    page = client.get(f"/veterans/{veteran.id}", expect=200).text
    assert "暂无标签" in page and "保存标签" in page
    client.post(f"/veterans/{veteran.id}/tags", data={"tags": "高龄，重点关注"}, expect=302)
    page = client.get(f"/veterans/{veteran.id}", expect=200).text
    assert "重点关注" in page and tags.list_tags(veteran.id) == sorted(["高龄", "重点关注"])
    bad = client.post(f"/veterans/{veteran.id}/tags", data={"tags": "长" * 21}, follow_redirects=True)
    assert "每个标签不超过20个字" in bad.text
    viewer = portal_as(portal_app, world.supervisor_parent).get(f"/veterans/{veteran.id}", expect=200).text
    assert "重点关注" in viewer and "保存标签" not in viewer
    portal_as(portal_app, world.staff_y).post(f"/veterans/{veteran.id}/tags", data={"tags": "x"}, expect=404)
