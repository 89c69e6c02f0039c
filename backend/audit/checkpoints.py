"""Signed checkpoints of the audit chain, kept outside the database.

A checkpoint is one line `audit-checkpoint {json}`: the head position (`seq`, which is also the number of sealed
rows), its chain hash, the head row's id and the time, signed with HMAC-SHA256 under AUDIT_CHAIN_KEY. The sinks:

- AUDIT_CHECKPOINT_FILE: a file opened in append mode (make it append-only on the host: `chattr +a`, or a separate
  volume the database administrators cannot write). The verifier reads it.
- AUDIT_CHECKPOINT_SYSLOG: a syslog address (`/dev/log`, or `host:port` for UDP) forwarding to a log host. The
  verifier reads an export of those lines: `flask audit-verify --checkpoints exported.log`.

Deleting the newest rows (and their seals) leaves a chain that is internally consistent but shorter than, or different
from, the last checkpoint: the verifier reports it.
"""

import hmac
import json
import logging
import logging.handlers
import os
from datetime import UTC, datetime

from flask import current_app

from backend.audit.chain import chain_key, keyed

MARKER = "audit-checkpoint"
VERSION = 1
log = logging.getLogger(__name__)
_syslog = {}


def _sign(key, body):
    """HMAC of the body under AUDIT_CHAIN_DIGEST (SHA-256 or SM3), the chain's own digest."""
    message = json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
    state = keyed(key)
    state.update(message)
    return state.hexdigest()


def make(head, now=None):
    body = {
        "v": VERSION,
        "seq": head.seq,
        "hash": head.chain_hash,
        "row_id": head.row_id,
        "at": (now or datetime.now(UTC)).isoformat(timespec="seconds"),
    }
    return {**body, "sig": _sign(chain_key(), body)}


def line_for(checkpoint):
    return f"{MARKER} {json.dumps(checkpoint, sort_keys=True, separators=(',', ':'))}"


def _syslog_handler(address):
    if address not in _syslog:
        host, _, port = address.rpartition(":")
        target = address if address.startswith("/") or not port.isdigit() else (host, int(port))
        handler = logging.handlers.SysLogHandler(address=target, facility=logging.handlers.SysLogHandler.LOG_AUTHPRIV)
        handler.setFormatter(logging.Formatter("veterans: %(message)s"))
        handler.append_nul = False
        _syslog[address] = handler
    return _syslog[address]


def write(head):
    """Write a checkpoint of `head` to every configured sink; a failing sink is logged, never raised (the seal
    itself is committed; the next run writes a newer checkpoint)."""
    checkpoint = make(head)
    line = line_for(checkpoint)
    path = current_app.config.get("AUDIT_CHECKPOINT_FILE")
    if path:
        try:
            os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
            try:
                os.write(fd, (line + "\n").encode())
                os.fsync(fd)
            finally:
                os.close(fd)
        except OSError:
            log.exception("audit checkpoint: cannot append to the checkpoint file")
    address = current_app.config.get("AUDIT_CHECKPOINT_SYSLOG")
    if address:
        try:
            handler = _syslog_handler(address)
            handler.emit(logging.makeLogRecord({"name": __name__, "msg": line, "levelno": 20, "levelname": "INFO"}))
        except OSError:
            log.exception("audit checkpoint: cannot send to syslog")
    return checkpoint


def _parse(line, key):
    """A checkpoint dict, None for a line with the marker but a bad signature or shape, False for any other line."""
    start = line.find(MARKER)
    if start < 0:
        return False
    try:
        data = json.loads(line[start + len(MARKER) :].strip(" \t\r\n\x00"))
        body = {k: data[k] for k in ("v", "seq", "hash", "row_id", "at")}
        if not isinstance(body["seq"], int) or not hmac.compare_digest(str(data["sig"]), _sign(key, body)):
            return None
        data["at_time"] = datetime.fromisoformat(body["at"])
        return data
    except (ValueError, KeyError, TypeError, AttributeError):
        return None


def read(path):
    """Yield (line number, checkpoint or None when its signature or shape is bad) from `path`, streaming. Lines
    without the marker are skipped, so a syslog export can be given as is. Raises OSError when unreadable."""
    key = chain_key()
    with open(path, encoding="utf-8", errors="replace") as handle:
        for number, line in enumerate(handle, start=1):
            parsed = _parse(line, key)
            if parsed is not False:
                yield number, parsed
