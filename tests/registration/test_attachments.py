"""S6: uploads are checked by content, limited in size, stored under server-made names; downloads are audited.
The deeper content checks (re-encoding, PDF rules, the scanner) are in tests/files/test_uploads.py."""

import io
import struct
import zipfile
import zlib
from pathlib import Path

import pytest
from freezegun import freeze_time
from sqlalchemy import select

from backend.audit.models import AuditLog
from backend.extensions import db
from backend.registration.models import RegistrationAttachment
from tests.api.helpers import bound_client
from tests.factories import create_veteran
from tests.files import samples
from tests.helpers import portal_as


def png(width=10, height=10):
    raw = b"".join(b"\x00" + b"\x00" * width * 3 for _ in range(min(height, 10)))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


JPEG = samples.jpeg()
PDF = samples.pdf()


def _zip(**files):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for name, data in files.items():
            z.writestr(name, data)
    return out.getvalue()


def _symlink_zip():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        info = zipfile.ZipInfo("link")
        info.external_attr = 0o120777 << 16
        z.writestr(info, "/etc/passwd")
    return out.getvalue()


BAD = {
    "empty": (b"", "a.jpg"),
    "one-byte": (b"\xff", "a.jpg"),
    "exe-as-jpg": (b"MZ\x90\x00" + b"\x00" * 200, "photo.jpg"),
    "double-extension": (b"MZ\x90\x00" + b"\x00" * 200, "photo.jpg.exe"),
    "elf": (b"\x7fELF" + b"\x00" * 200, "a.pdf"),
    "shell-script": (b"#!/bin/sh\nrm -rf /\n", "a.png"),
    "html": (b"<html><script>alert(1)</script></html>", "a.pdf"),
    "svg": (b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', "a.png"),
    "xml": (b"<?xml version='1.0'?><!DOCTYPE x [<!ENTITY e SYSTEM 'file:///etc/passwd'>]><x>&e;</x>", "a.pdf"),
    "gif": (b"GIF89a" + b"\x00" * 100, "a.gif"),
    "bmp": (b"BM" + b"\x00" * 100, "a.bmp"),
    "webp": (b"RIFF\x00\x00\x00\x00WEBPVP8 " + b"\x00" * 50, "a.webp"),
    "tiff": (b"II*\x00" + b"\x00" * 100, "a.tif"),
    "zip": (_zip(**{"a.txt": "x"}), "a.zip"),
    "zip-bomb": (_zip(**{"a.txt": "0" * 2_000_000}), "a.jpg"),
    "zip-with-symlink": (_symlink_zip(), "a.pdf"),
    "docx-like": (_zip(**{"word/document.xml": "<x/>"}), "a.docx"),
    "traversal-name": (b"not an image", "../../etc/passwd"),
    "absolute-name": (b"not an image", "/etc/passwd"),
    "null-byte-name": (b"not an image", "a.jpg\x00.exe"),
    "truncated-png": (b"\x89PNG\r\n\x1a\n", "a.png"),
    "png-without-ihdr": (b"\x89PNG\r\n\x1a\n" + b"\x00" * 30, "a.png"),
    "png-50-megapixels": (png(10000, 5000), "big.png"),
    "png-pixel-bomb": (png(100000, 100000), "bomb.png"),
    "jpeg-prefix-only": (b"\xff\xd8", "a.jpg"),
    "pdf-prefix-only": (b"%PD", "a.pdf"),
    "pdf-lowercase": (b"%pdf-1.4", "a.pdf"),
    "text-as-pdf": (b"hello world", "a.pdf"),
    "json": (b'{"a": 1}', "a.png"),
    "php": (b"<?php system($_GET['c']); ?>", "a.jpg.php"),
    "rar": (b"Rar!\x1a\x07\x00" + b"\x00" * 50, "a.rar"),
    "7z": (b"7z\xbc\xaf\x27\x1c" + b"\x00" * 50, "a.7z"),
}


@pytest.fixture
def phone(api_app, fake_wechat, world, monkeypatch):
    monkeypatch.setitem(api_app.extensions, "upload_scanner", samples.EicarScanner())
    with freeze_time("2027-02-01 02:00:00"):
        yield bound_client(api_app, fake_wechat, create_veteran(station=world.x1))


def upload(client, data, name, section="employment"):
    return client.client.post(
        "/v1/registrations/current/attachments",
        data={"section": section, "file": (io.BytesIO(data), name)},
        headers={"Authorization": f"Bearer {client.token}"},
        content_type="multipart/form-data",
    )


@pytest.mark.parametrize("content,name", [(png(), "证明.png"), (JPEG, "证明.jpg"), (PDF, "劳动合同.pdf")])
def test_good_files_are_stored_under_server_made_names(phone, api_app, content, name):
    with freeze_time("2027-02-01 02:00:00"):
        body = upload(phone, content, name).get_json()
        stored = db.session.scalars(select(RegistrationAttachment)).one().stored_name
        kept = (Path(api_app.config["UPLOAD_DIR"]) / stored).read_bytes()
        assert body["display_name"] == name and body["size"] == len(kept)
        assert Path(name).stem not in stored
        assert kept == content if name.endswith(".pdf") else kept[:4] == content[:4]  # images are re-encoded
        current = phone.get("/v1/registrations/current", expect=200).get_json()
        assert [a["id"] for a in current["attachments"]] == [body["id"]]


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_files_are_rejected_before_processing(phone, api_app, case):
    content, name = BAD[case]
    with freeze_time("2027-02-01 02:00:00"):
        before = (
            set(Path(api_app.config["UPLOAD_DIR"]).glob("*")) if Path(api_app.config["UPLOAD_DIR"]).exists() else set()
        )
        response = upload(phone, content, name)
        assert response.status_code == 422, response.get_json()
        # A NUL in the file name is refused by the control-character guard before the upload checks (issue 10).
        codes = {"registration.attachment_rejected"} | ({"request.invalid"} if case == "null-byte-name" else set())
        assert response.get_json()["error"]["code"] in codes
        after = set(Path(api_app.config["UPLOAD_DIR"]).glob("*"))
        assert after == before and db.session.scalars(select(RegistrationAttachment)).first() is None
    assert len(BAD) >= 30


def test_oversize_upload_is_413(phone):
    with freeze_time("2027-02-01 02:00:00"):
        response = upload(phone, png() + b"\x00" * (6 * 1024 * 1024), "big.png")
        assert response.status_code == 413 and response.get_json()["error"]["code"] == "request.too_large"


def test_five_megabytes_just_fit_and_json_bodies_stay_limited(phone):
    with freeze_time("2027-02-01 02:00:00"):
        content = samples.pdf(padding=5 * 1024 * 1024 - 700)
        assert 5 * 1024 * 1024 - 200 < len(content) <= 5 * 1024 * 1024
        assert upload(phone, content, "a.pdf").status_code == 201
        big_json = b'{"content": {"x": "' + b"a" * (1024 * 1024) + b'"}}'
        response = phone.call(
            "PUT", "/v1/registrations/current", data=big_json, headers={"Content-Type": "application/json"}
        )
        assert response.status_code == 413


def test_delete_and_staff_download_is_audited(phone, portal_app, world):
    with freeze_time("2027-02-01 02:00:00"):
        first = upload(phone, PDF, "a.pdf").get_json()
        second = upload(phone, JPEG, "b.jpg").get_json()
        phone.call("DELETE", f"/v1/registrations/current/attachments/{first['id']}", expect=200)
        reg_id = db.session.get(RegistrationAttachment, second["id"]).registration_id
    staff = portal_as(portal_app, world.staff_x)
    response = staff.get(f"/registration/attachments/{second['id']}", expect=200)
    assert response.data[:3] == JPEG[:3] and response.headers["Content-Disposition"].startswith("attachment;")
    assert "filename*=UTF-8''b.jpg" in response.headers["Content-Disposition"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    rows = db.session.scalars(select(AuditLog).where(AuditLog.action == "registration.attachment_download")).all()
    assert len(rows) == 1 and rows[0].details == {"registration_id": reg_id}
    portal_as(portal_app, world.staff_y).get(f"/registration/attachments/{second['id']}", expect=404)


def test_a_submitted_registration_takes_no_new_attachments(phone):
    from tests.registration.helpers import FULL

    with freeze_time("2027-02-01 02:00:00"):
        phone.call("PUT", "/v1/registrations/current", json={"content": FULL}, expect=200)
        phone.post("/v1/registrations/current/submit", expect=200)
        assert upload(phone, PDF, "a.pdf").status_code == 409


def test_deleting_a_draft_removes_its_files(phone, api_app):
    with freeze_time("2027-02-01 02:00:00"):
        upload(phone, PDF, "a.pdf")
        stored = db.session.scalars(select(RegistrationAttachment)).one().stored_name
        path = Path(api_app.config["UPLOAD_DIR"]) / stored
        assert path.exists()
        phone.call("DELETE", "/v1/registrations/current", expect=200)
        assert not path.exists()
