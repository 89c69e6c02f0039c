"""Issue 10: uploads are re-encoded (images), refused when active (PDFs), scanned first, and nothing is stored on
refusal. Through the phone API (the one upload route) and, for the layers, against backend/uploads.py directly."""

import io
from pathlib import Path

import pytest
from freezegun import freeze_time
from PIL import Image
from sqlalchemy import select

from backend import uploads
from backend.extensions import db
from backend.registration.models import RegistrationAttachment
from backend.scanning import NoScanner
from tests.api.helpers import bound_client
from tests.factories import create_veteran
from tests.files import samples

NOW = "2027-02-01 02:00:00"

HOSTILE = {  # name: (bytes, file name, the Chinese message expected)
    "png-50-megapixels": (samples.png_header(10_000, 5_000), "a.png", uploads.TOO_MANY_PIXELS),
    "jpeg-50-megapixels": (samples.jpeg_claiming(10_000, 5_000), "a.jpg", uploads.TOO_MANY_PIXELS),
    "png-pixel-bomb": (samples.png_header(100_000, 100_000), "a.png", uploads.TOO_MANY_PIXELS),
    "truncated-png": (samples.png(64, 64)[:60], "a.png", uploads.BROKEN_IMAGE),
    "truncated-jpeg": (samples.jpeg(64, 64)[:200], "a.jpg", uploads.BROKEN_IMAGE),
    "png-header-without-pixels": (samples.png_header(3000, 3000), "a.png", uploads.BROKEN_IMAGE),
    "wrong-magic": (b"GIF89a" + samples.png()[6:], "a.png", uploads.LIMITS_TEXT),
    "pdf-javascript": (samples.pdf_with_js(), "a.pdf", uploads.PDF_ACTIVE),
    "pdf-open-action": (samples.pdf_with_open_action(), "a.pdf", uploads.PDF_ACTIVE),
    "pdf-open-action-hex-escaped": (samples.pdf_hex_escaped_open_action(), "a.pdf", uploads.PDF_ACTIVE),
    "pdf-additional-actions": (samples.pdf_with_page_aa(), "a.pdf", uploads.PDF_ACTIVE),
    "pdf-embedded-file": (samples.pdf_with_embedded_file(), "a.pdf", uploads.PDF_ACTIVE),
    "pdf-launch": (samples.pdf_with_launch(), "a.pdf", uploads.PDF_ACTIVE),
    "pdf-xfa": (samples.pdf_with_xfa(), "a.pdf", uploads.PDF_ACTIVE),
    "pdf-rich-media": (samples.pdf_with_rich_media(), "a.pdf", uploads.PDF_ACTIVE),
    "pdf-encrypted": (samples.pdf_encrypted(), "a.pdf", uploads.PDF_ENCRYPTED),
    "pdf-truncated": (samples.pdf()[:200], "a.pdf", uploads.BROKEN_PDF),
    "pdf-header-only": (b"%PDF-1.7\n" + b"\x00" * 300, "a.pdf", uploads.BROKEN_PDF),
    "pdf-eicar": (samples.pdf_with_eicar(), "a.pdf", uploads.INFECTED),
    "png-eicar-appended": (samples.png() + samples.EICAR, "a.png", uploads.INFECTED),
}


@pytest.fixture
def scanner(api_app, monkeypatch):
    fake = samples.EicarScanner()
    monkeypatch.setitem(api_app.extensions, "upload_scanner", fake)
    return fake


@pytest.fixture
def phone(api_app, fake_wechat, world, scanner):
    with freeze_time(NOW):
        yield bound_client(api_app, fake_wechat, create_veteran(station=world.x1))


def upload(phone, data, name):
    return phone.client.post(
        "/v1/registrations/current/attachments",
        data={"section": "employment", "file": (io.BytesIO(data), name)},
        headers={"Authorization": f"Bearer {phone.token}"},
        content_type="multipart/form-data",
    )


def stored_files(api_app):
    folder = Path(api_app.config["UPLOAD_DIR"])
    return set(folder.glob("*")) if folder.exists() else set()


def stored_bytes(api_app, attachment_id):
    attachment = db.session.get(RegistrationAttachment, attachment_id)
    return (Path(api_app.config["UPLOAD_DIR"]) / attachment.stored_name).read_bytes()


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_files_are_refused_with_a_clear_message_and_nothing_stored(phone, api_app, case):
    content, name, message = HOSTILE[case]
    with freeze_time(NOW):
        before = stored_files(api_app)
        response = upload(phone, content, name)
        assert response.status_code == 422, response.get_json()
        error = response.get_json()["error"]
        assert error["code"] == "registration.attachment_rejected"
        assert error["message"] == message and error["details"] == {"file": message}
        assert stored_files(api_app) == before
        assert db.session.scalars(select(RegistrationAttachment)).first() is None
    assert len(HOSTILE) >= 10


@pytest.mark.parametrize(
    "payload", [b"<?php system($_GET['c']); ?>", b"<html><script>alert(1)</script></html>", b"PK\x03\x04zip-tail"]
)
@pytest.mark.parametrize("make,kind", [(samples.png, "PNG"), (samples.jpeg, "JPEG")])
def test_an_appended_payload_comes_back_clean(phone, api_app, payload, make, kind):
    with freeze_time(NOW):
        body = upload(phone, make(32, 24) + payload, f"a.{kind.lower()}").get_json()
        kept = stored_bytes(api_app, body["id"])
    assert payload not in kept and body["size"] == len(kept)
    with Image.open(io.BytesIO(kept)) as image:
        assert image.format == kind and image.size == (32, 24)


def test_exif_comments_and_text_chunks_are_stripped_and_orientation_kept(phone, api_app):
    exif = Image.Exif()
    exif[0x010E] = "SECRET-EXIF"  # ImageDescription
    exif[0x0112] = 6  # Orientation: rotate 90°
    photo = samples.jpeg(40, 20, exif=exif.tobytes(), comment=b"<script>x</script>")
    from PIL.PngImagePlugin import PngInfo

    text = PngInfo()
    text.add_text("Comment", "<?php evil(); ?>")
    with freeze_time(NOW):
        jpeg_id = upload(phone, photo, "a.jpg").get_json()["id"]
        png_id = upload(phone, samples.png(pnginfo=text), "a.png").get_json()["id"]
        kept_jpeg, kept_png = stored_bytes(api_app, jpeg_id), stored_bytes(api_app, png_id)
    assert b"SECRET-EXIF" not in kept_jpeg and b"Exif" not in kept_jpeg and b"<script>" not in kept_jpeg
    assert b"evil" not in kept_png and b"tEXt" not in kept_png
    with Image.open(io.BytesIO(kept_jpeg)) as image:
        assert image.size == (20, 40) and not image.getexif()


def test_transparency_survives_and_forty_megapixels_is_the_limit():
    image = Image.new("P", (4, 4))
    out = io.BytesIO()
    image.save(out, format="PNG", transparency=0)
    _, kept = uploads.inspect_upload(out.getvalue(), NoScanner())
    with Image.open(io.BytesIO(kept)) as again:
        assert "transparency" in again.info
    assert uploads.header_pixels(samples.png_header(8000, 5000), "PNG") == uploads.MAX_PIXELS
    with pytest.raises(uploads.Rejected) as refused:
        uploads.inspect_upload(samples.png_header(8000, 5001), NoScanner())
    assert refused.value.message == uploads.TOO_MANY_PIXELS


def test_the_scanner_sees_the_raw_upload_before_any_parser(phone, scanner):
    plain = samples.pdf()
    with freeze_time(NOW):
        assert upload(phone, plain, "a.pdf").status_code == 201
        assert upload(phone, samples.EICAR, "eicar.pdf").status_code == 422  # wrong type: never reaches the scanner
    assert scanner.seen == [len(plain)]


def test_plain_pdfs_pass_and_objects_only_pypdf_sees_are_checked_too(monkeypatch):
    plain = samples.pdf()
    assert uploads.inspect_upload(plain, NoScanner()) == ("application/pdf", plain)
    # With the raw-bytes pass switched off, the walk over the parsed objects still finds every active feature.
    monkeypatch.setattr(uploads, "_names_in_raw", lambda data: iter(()))
    for make in (
        samples.pdf_with_js,
        samples.pdf_with_open_action,
        samples.pdf_hex_escaped_open_action,
        samples.pdf_with_page_aa,
        samples.pdf_with_embedded_file,
        samples.pdf_with_launch,
        samples.pdf_with_xfa,
        samples.pdf_with_rich_media,
    ):
        with pytest.raises(uploads.Rejected) as refused:
            uploads.check_pdf(make())
        assert refused.value.message == uploads.PDF_ACTIVE, make.__name__


def test_random_stream_bytes_do_not_look_like_active_names():
    body = b"/JS /AA /Launch " * 1000
    data = samples.pdf(comment=body)  # inside a content stream: not a dictionary key anywhere
    uploads.check_pdf(data)
