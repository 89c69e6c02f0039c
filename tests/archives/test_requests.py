"""Lookup and copy requests: approval by the center before any lookup, maker–checker, every step in the permanent
log, scope on every step."""

import pytest
from sqlalchemy import select

from backend.archives import common
from backend.archives import requests as archive_requests
from backend.archives.models import ArchiveAccessLog
from backend.errors import NotFound, PermissionDenied, ValidationFailed
from backend.extensions import db
from tests.archives.helpers import approver, archive, clerk, file


def _events(archive_id):
    return db.session.scalars(
        select(ArchiveAccessLog.event).where(ArchiveAccessLog.archive_id == archive_id).order_by(ArchiveAccessLog.id)
    ).all()


def test_lookup_needs_approval_first(world):
    arch = archive(world)
    req = file(world, arch)
    with pytest.raises(common.NotApproved):
        archive_requests.record_lookup(actor=world.staff_x, request_id=req.id)
    checker = approver(world)
    archive_requests.decide(actor=checker, request_id=req.id, approve=False, note="事由不充分")
    with pytest.raises(common.NotApproved):
        archive_requests.record_lookup(actor=world.staff_x, request_id=req.id)
    assert req.looked_up_at is None
    assert _events(arch.id) == ["intake", "requested", "rejected"]


def test_maker_cannot_check_their_own_request(world):
    arch = archive(world)
    req = file(world, arch)  # filed by staff_x, who also holds archives.approve
    with pytest.raises(common.SameApprover) as caught:
        archive_requests.decide(actor=world.staff_x, request_id=req.id, approve=True)
    assert "另一位审批人" in caught.value.message
    assert req.state == "pending"


def test_full_copy_path_logged_step_by_step(world):
    arch = archive(world)
    maker = clerk(world)
    req = file(
        world,
        arch,
        actor=maker,
        kind="copy",
        requester_kind="outside",
        requester_name="陈干事",
        requester_unit="人社局",
    )
    assert req.requester_name == "陈干事" and len(req.item_ids) == 2
    with pytest.raises(PermissionDenied):
        archive_requests.decide(actor=maker, request_id=req.id, approve=True)  # station staff cannot approve
    archive_requests.decide(actor=world.staff_x, request_id=req.id, approve=True)
    with pytest.raises(ValidationFailed):
        archive_requests.record_lookup(actor=maker, request_id=req.id)  # a copy says what was copied
    done = archive_requests.record_lookup(actor=maker, request_id=req.id, copied="入伍登记表复印件1份")
    assert done.state == "done" and done.looked_up_at is not None and done.copied == "入伍登记表复印件1份"
    assert _events(arch.id) == ["intake", "requested", "approved", "looked_up", "copied"]
    rows = db.session.scalars(select(ArchiveAccessLog).where(ArchiveAccessLog.request_id == req.id)).all()
    assert all(r.requester == "陈干事（人社局）" and r.purpose == "核定工龄" for r in rows)
    assert rows[0].items == ["1. 入伍登记表", "2. 士兵登记表"]
    with pytest.raises(common.NotApproved):
        archive_requests.record_lookup(actor=maker, request_id=req.id, copied="再来一份")


def test_staff_request_names_the_filer_and_cancel(world):
    arch = archive(world)
    req = file(world, arch)
    assert req.requester_name == world.staff_x.full_name and req.requester_unit == world.x.name
    other = clerk(world)
    with pytest.raises(PermissionDenied):
        archive_requests.cancel(actor=other, request_id=req.id)  # neither the filer nor an approver
    archive_requests.cancel(actor=world.staff_x, request_id=req.id, reason="不再需要")
    assert req.state == "cancelled" and _events(arch.id)[-1] == "cancelled"
    with pytest.raises(common.RequestStateInvalid):
        archive_requests.decide(actor=approver(world), request_id=req.id, approve=True)


def test_request_validation(world):
    arch = archive(world)
    with pytest.raises(ValidationFailed) as caught:
        file(world, arch, item_ids=[], purpose="")
    assert set(caught.value.details) == {"item_ids", "purpose"}
    with pytest.raises(ValidationFailed):
        file(world, arch, requester_kind="outside")  # no name or unit
    with pytest.raises(ValidationFailed):
        archive_requests.decide(actor=approver(world), request_id=file(world, arch).id, approve=False, note="")


def test_scope_on_every_step(world):
    arch = archive(world)
    req = file(world, arch)
    with pytest.raises(NotFound):
        file(world, arch, actor=world.staff_y)
    for step in (
        lambda: archive_requests.decide(actor=world.staff_y, request_id=req.id, approve=True),
        lambda: archive_requests.cancel(actor=world.staff_y, request_id=req.id),
        lambda: archive_requests.record_lookup(actor=world.staff_y, request_id=req.id),
    ):
        with pytest.raises(NotFound):
            step()
    rows, _ = archive_requests.list_requests(actor=world.staff_y)
    assert rows == []
    rows, _ = archive_requests.list_requests(actor=world.staff_x, state="pending")
    assert [r.id for r in rows] == [req.id]
    assert archive_requests.pending_count(world.staff_x) == 0  # their own
    assert archive_requests.pending_count(approver(world)) == 1
