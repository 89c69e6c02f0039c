"""The malware scan hook every upload passes before it is accepted.

The scanner is pluggable: `app.extensions["upload_scanner"]` is any object with `scan(data) -> str | None` (the
signature found, or None when clean). When none is set, one is built from the configuration: ClamAV's clamd over
the UNIX socket in `CLAMD_SOCKET` (the INSTREAM protocol, spoken directly), or a no-op scanner when it is unset.
A scanner that cannot answer fails closed: the upload is refused with 503 `files.scan_unavailable`.
"""

import logging
import socket
import struct

from flask import current_app

from backend.errors import AppError

log = logging.getLogger(__name__)
CHUNK = 64 * 1024


class ScanUnavailable(AppError):
    status = 503
    code = "files.scan_unavailable"
    message = "文件安全检查暂时不可用，请稍后再试"


class NoScanner:
    """Accepts everything: the configured choice when no clamd is available (development, demo)."""

    def scan(self, data):
        return None


class ClamdScanner:
    """clamd's INSTREAM command over a UNIX socket: `zINSTREAM\\0`, chunks each prefixed by a 4-byte big-endian
    length, a zero-length chunk to finish, then one NUL-terminated reply (`stream: OK` or `stream: NAME FOUND`)."""

    def __init__(self, path, timeout=30.0):
        self.path, self.timeout = path, timeout

    def scan(self, data):
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
                sock.settimeout(self.timeout)
                sock.connect(self.path)
                sock.sendall(b"zINSTREAM\0")
                for start in range(0, len(data), CHUNK):
                    chunk = data[start : start + CHUNK]
                    sock.sendall(struct.pack(">I", len(chunk)) + chunk)
                sock.sendall(struct.pack(">I", 0))
                reply = _read_reply(sock)
        except OSError as error:
            log.warning("clamd unreachable: %s", type(error).__name__)
            raise ScanUnavailable() from None
        return parse_reply(reply)


def _read_reply(sock):
    reply = b""
    while not reply.endswith(b"\0") and len(reply) < 4096:
        part = sock.recv(1024)
        if not part:
            break
        reply += part
    return reply.rstrip(b"\0").decode("utf-8", "replace").strip()


def parse_reply(reply):
    """None for a clean stream, the signature name for a finding. :raises ScanUnavailable: on an error reply"""
    if reply.endswith(": OK"):
        return None
    if reply.endswith(" FOUND"):
        signature = reply.rsplit(":", 1)[-1][: -len(" FOUND")].strip() or "unknown"
        log.warning("upload refused by the scanner: %s", signature)
        return signature
    log.warning("clamd error reply: %s", reply[:200])
    raise ScanUnavailable()


def scanner():
    """The configured scanner of the current app (built once per app)."""
    found = current_app.extensions.get("upload_scanner")
    if found is None:
        path = current_app.config.get("CLAMD_SOCKET")
        found = ClamdScanner(path, current_app.config.get("CLAMD_TIMEOUT", 30.0)) if path else NoScanner()
        current_app.extensions["upload_scanner"] = found
    return found
