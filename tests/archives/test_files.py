"""The digital archive: uploads checked like every attachment, viewing needs archives.manage and one's own approved
lookup (tests/archives/test_review_fixes.py), is audited, logged permanently and watermarked per viewer and time; the
stored file never changes."""

import hashlib
import io
from datetime import UTC, datetime

import pytest
from PIL import Image, ImageChops
from pypdf import PdfReader
from sqlalchemy import func, select

from backend.archives import common, custody, files, watermark
from backend.archives import requests as archive_requests
from backend.archives.models import ArchiveAccessLog
from backend.audit.models import AuditLog
from backend.errors import NotFound, PermissionDenied
from backend.extensions import db
from backend.registration.attachments import storage_dir
from tests.archives.helpers import approver, archive, clerk, file, location
from tests.factories import create_staff
from tests.files import samples

T1 = datetime(2026, 3, 1, 2, 3, 4, tzinfo=UTC)
T2 = datetime(2026, 3, 1, 2, 9, 0, tzinfo=UTC)


def _scan(world, data, name="扫描.png"):
    arch = archive(world)
    item = next(iter(custody.items_of(arch.id)))
    return arch, files.add_file(actor=world.staff_x, archive_id=arch.id, item_id=item.id, filename=name, data=data)


def granted(world, arch, actor=None, decider=None):
    """`actor`'s own lookup of the archive's first items, approved by another approver."""
    request = file(world, arch, actor=actor or world.staff_x)
    return archive_requests.decide(actor=decider or approver(world), request_id=request.id, approve=True)


def _image(size=(320, 240)):
    out = io.BytesIO()
    Image.new("RGB", size, (245, 245, 240)).save(out, format="PNG")
    return out.getvalue()


def test_upload_checks_and_scope(world):
    arch = archive(world)
    item = next(iter(custody.items_of(arch.id)))
    with pytest.raises(files.ArchiveFileRejected):
        files.add_file(actor=world.staff_x, archive_id=arch.id, item_id=item.id, filename="a.exe", data=b"MZ\x90")
    with pytest.raises(files.ArchiveFileRejected):
        files.add_file(
            actor=world.staff_x, archive_id=arch.id, item_id=item.id, filename="a.pdf", data=samples.pdf_with_js()
        )
    with pytest.raises(NotFound):
        files.add_file(actor=world.staff_y, archive_id=arch.id, item_id=item.id, filename="a.png", data=samples.png())
    with pytest.raises(PermissionDenied):
        files.add_file(actor=clerk(world), archive_id=arch.id, item_id=item.id, filename="a.png", data=samples.png())
    custody.transfer_out(
        actor=world.staff_x, archive_id=arch.id, transferred_to="x", transferred_on="2026-02-01", receipt="1"
    )
    with pytest.raises(common.ArchiveTransferred):
        files.add_file(actor=world.staff_x, archive_id=arch.id, item_id=item.id, filename="a.png", data=samples.png())


def test_image_view_is_watermarked_per_viewer_and_time_and_logged(world):
    arch, scan = _scan(world, _image())
    granted(world, arch)
    stored = (storage_dir() / scan.stored_name).read_bytes()
    first, content_type, _ = files.view_file(actor=world.staff_x, file_id=scan.id, now=T1)
    again, _, _ = files.view_file(actor=world.staff_x, file_id=scan.id, now=T2)
    other = create_staff(unit=world.x, roles=("center_reviewer",))
    granted(world, arch, actor=other, decider=world.staff_x)
    theirs, _, _ = files.view_file(actor=other, file_id=scan.id, now=T1)
    assert content_type == "image/png" and len({first, again, theirs, stored}) == 4
    assert hashlib.sha256((storage_dir() / scan.stored_name).read_bytes()).hexdigest() == scan.sha256  # untouched
    original = Image.open(io.BytesIO(stored)).convert("RGB")
    marked = Image.open(io.BytesIO(first)).convert("RGB")
    changed = ImageChops.difference(original, marked).convert("L").point(lambda v: 255 if v else 0).histogram()[255]
    assert changed > original.width * original.height // 50  # the overlay covers the picture
    assert "2026-03-01 10:03:04" in watermark.label(world.staff_x, T1)  # CST
    events = db.session.scalars(select(ArchiveAccessLog.event).where(ArchiveAccessLog.archive_id == arch.id)).all()
    assert events.count("file_viewed") == 3
    assert db.session.scalar(select(func.count()).where(AuditLog.action == "archives.file_viewed")) == 3


def test_pdf_view_carries_the_login_and_time(world):
    arch, scan = _scan(world, samples.pdf(), name="表.pdf")
    granted(world, arch)
    data, content_type, _ = files.view_file(actor=world.staff_x, file_id=scan.id, now=T1)
    assert content_type == "application/pdf"
    extracted = PdfReader(io.BytesIO(data)).pages[0].extract_text()
    assert world.staff_x.username in extracted and "2026-03-01 10:03:04" in extracted
    later, _, _ = files.view_file(actor=world.staff_x, file_id=scan.id, now=T2)
    assert "2026-03-01 10:09:00" in PdfReader(io.BytesIO(later)).pages[0].extract_text()


def test_view_needs_manage_and_scope(world):
    arch, scan = _scan(world, samples.png())
    granted(world, arch)
    with pytest.raises(PermissionDenied):
        files.view_file(actor=clerk(world), file_id=scan.id)
    with pytest.raises(NotFound):
        files.view_file(actor=world.staff_y, file_id=scan.id)
    with pytest.raises(NotFound):
        files.view_file(actor=world.staff_x, file_id=scan.id + 999)
    assert location  # helper import used by other tests
