"""The scan hook: clamd's INSTREAM protocol against a fake clamd on a UNIX socket, fail-closed when it is down,
and the configured choice (clamd when CLAMD_SOCKET is set, a no-op otherwise)."""

import io
import socketserver
import struct
import tempfile
import threading
from pathlib import Path

import pytest
from freezegun import freeze_time
from sqlalchemy import select

from backend import scanning
from backend.extensions import db
from backend.registration.models import RegistrationAttachment
from tests.api.helpers import bound_client
from tests.factories import create_veteran
from tests.files import samples


class FakeClamd(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True

    def __init__(self, path):
        self.received = []
        super().__init__(path, _Handler)


class _Handler(socketserver.StreamRequestHandler):
    def handle(self):
        command = self.rfile.read(len(b"zINSTREAM\0"))
        assert command == b"zINSTREAM\0", command
        data = b""
        while True:
            (size,) = struct.unpack(">I", self.rfile.read(4))
            if size == 0:
                break
            data += self.rfile.read(size)
        self.server.received.append(data)
        if samples.EICAR in data:
            reply = b"stream: Eicar-Test-Signature FOUND\0"
        elif b"make-clamd-fail" in data:
            reply = b"INSTREAM size limit exceeded. ERROR\0"
        else:
            reply = b"stream: OK\0"
        self.wfile.write(reply)


@pytest.fixture
def clamd():
    with tempfile.TemporaryDirectory(prefix="clamd") as folder:
        server = FakeClamd(str(Path(folder) / "clamd.sock"))
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield server
        finally:
            server.shutdown()
            server.server_close()
            thread.join()


def test_instream_clean_infected_and_chunked(clamd):
    scanner = scanning.ClamdScanner(clamd.server_address, timeout=5)
    big = b"x" * (3 * scanning.CHUNK + 17)
    assert scanner.scan(big) is None
    assert scanner.scan(b"prefix " + samples.EICAR + b" suffix") == "Eicar-Test-Signature"
    assert clamd.received[0] == big


def test_an_error_reply_or_no_daemon_fails_closed(clamd):
    with pytest.raises(scanning.ScanUnavailable):
        scanning.ClamdScanner(clamd.server_address, timeout=5).scan(b"make-clamd-fail")
    with pytest.raises(scanning.ScanUnavailable):
        scanning.ClamdScanner(clamd.server_address + ".missing", timeout=5).scan(b"anything")


def test_reply_parsing():
    assert scanning.parse_reply("stream: OK") is None
    assert scanning.parse_reply("stream: Win.Test.EICAR_HDB-1 FOUND") == "Win.Test.EICAR_HDB-1"
    with pytest.raises(scanning.ScanUnavailable):
        scanning.parse_reply("")


@pytest.fixture
def phone(api_app, fake_wechat, world):
    with freeze_time("2027-02-01 02:00:00"):
        yield bound_client(api_app, fake_wechat, create_veteran(station=world.x1))


def upload(phone, data, name="a.pdf"):
    return phone.client.post(
        "/v1/registrations/current/attachments",
        data={"section": "employment", "file": (io.BytesIO(data), name)},
        headers={"Authorization": f"Bearer {phone.token}"},
        content_type="multipart/form-data",
    )


def test_clamd_socket_setting_routes_uploads_through_clamd(api_app, phone, clamd, monkeypatch):
    monkeypatch.setitem(api_app.config, "CLAMD_SOCKET", clamd.server_address)
    monkeypatch.setitem(api_app.extensions, "upload_scanner", None)  # rebuilt from the configuration, undone after
    with freeze_time("2027-02-01 02:00:00"):
        assert upload(phone, samples.pdf()).status_code == 201
        refused = upload(phone, samples.pdf_with_eicar())
        assert refused.status_code == 422 and refused.get_json()["error"]["code"] == "registration.attachment_rejected"
    assert len(clamd.received) == 2 and isinstance(api_app.extensions["upload_scanner"], scanning.ClamdScanner)


def test_a_dead_clamd_refuses_uploads_with_503_and_stores_nothing(api_app, phone, monkeypatch):
    monkeypatch.setitem(api_app.config, "CLAMD_SOCKET", "/nonexistent/clamd.sock")
    monkeypatch.setitem(api_app.extensions, "upload_scanner", None)
    with freeze_time("2027-02-01 02:00:00"):
        response = upload(phone, samples.pdf())
    assert response.status_code == 503
    assert response.get_json()["error"]["code"] == "files.scan_unavailable"
    assert db.session.scalars(select(RegistrationAttachment)).first() is None


def test_without_clamd_socket_the_no_op_scanner_is_configured(api_app, monkeypatch):
    monkeypatch.setitem(api_app.config, "CLAMD_SOCKET", None)
    monkeypatch.setitem(api_app.extensions, "upload_scanner", None)
    with api_app.app_context():
        assert isinstance(scanning.scanner(), scanning.NoScanner)
