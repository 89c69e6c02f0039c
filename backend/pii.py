"""Personal data at rest, the one sealing module: ciphertext with a header naming algorithm and key version, a keyed
lookup index that carries its version too, and masking.

- Sealed value: "<cipher letter><version>:" + urlsafe base64(nonce + ciphertext + tag), e.g. "S2:...", where "A" is
  AES-256-GCM and "S" SM4-GCM. Values written before issue 15 have no header (urlsafe base64 of b"\\x01" + nonce +
  AES-GCM ciphertext under PII_ENCRYPTION_KEY) and read as version 0.
- Index value: "<mac letter><version>:" + hex HMAC, e.g. "M2:..." ("H" HMAC-SHA256, "M" HMAC-SM3); header-less
  64-hex values are version 0 HMAC-SHA256. Lookups match every live version: `pii.index_in(column, value, context=)`.
The newest configured key version seals under PII_CIPHER (backend/keys/keyring.py); rotation re-seals older values
(backend/keys/rotation.py). No key is stored in the database.
"""

import base64
import hmac
import json
import os
import re

from backend.keys import keyring
from backend.keys.primitives import MAC_FOR_CIPHER, NONCE, mac_bytes, seal, unseal

_LEGACY_PREFIX = b"\x01"
_HEADER = re.compile(r"^([A-Z])(\d{1,4}):")
LEGACY = "legacy"  # the header name of header-less values


def header_of(token):
    """("A", 2) for "A2:...", (LEGACY, 0) for a header-less value."""
    match = _HEADER.match(token)
    return (match.group(1), int(match.group(2))) if match else (LEGACY, keyring.LEGACY_VERSION)


def version_of(token):
    return header_of(token)[1]


def encrypt(value, *, context):
    """Encrypt `value` (str) bound to `context` (e.g. "veteran.id_number") as associated data; returns str."""
    if value is None:
        return None
    ring = keyring.current()
    blob = seal(ring.cipher, ring.newest.seal_key, os.urandom(NONCE), value.encode(), context.encode())
    return f"{ring.seal_header}:{base64.urlsafe_b64encode(blob).decode()}"


def decrypt(token, *, context):
    if token is None:
        return None
    letter, version = header_of(token)
    key = keyring.current().get(version).seal_key
    if letter == LEGACY:
        blob = base64.urlsafe_b64decode(token)
        if blob[:1] != _LEGACY_PREFIX:
            raise ValueError("unknown ciphertext version")
        return unseal("A", key, blob[1:], context.encode()).decode()
    blob = base64.urlsafe_b64decode(token[token.index(":") + 1 :])
    return unseal(letter, key, blob, context.encode()).decode()


def is_current(token, ring=None):
    """Sealed by the newest version under the configured cipher (nothing for rotation to do)."""
    return token is None or token.startswith(f"{(ring or keyring.current()).seal_header}:")


def reseal(token, *, context):
    """The value sealed under the newest version, or `token` itself when it already is."""
    return token if is_current(token) else encrypt(decrypt(token, context=context), context=context)


def blind_index(value, *, context):
    """Deterministic HMAC of a normalized value under the newest version, for equality lookup (what writes store)."""
    if value is None:
        return None
    ring = keyring.current()
    letter = MAC_FOR_CIPHER[ring.cipher]
    return f"{ring.index_header}:{mac_bytes(letter, ring.newest.index_key, _message(value, context)).hex()}"


def _message(value, context):
    return f"{context}\x00{value}".encode()


def index_values(value, *, context):
    """Every index value `value` may be stored under: each configured version under either HMAC, plus the
    header-less version 0 form. A handful of HMACs (microseconds), so lookups work in the middle of a rotation."""
    if value is None:
        return []
    message, out = _message(value, context), []
    for version, key in sorted(keyring.current().versions.items(), reverse=True):
        for letter in ("H", "M"):
            out.append(f"{letter}{version}:{mac_bytes(letter, key.index_key, message).hex()}")
        if version == keyring.LEGACY_VERSION:
            out.append(mac_bytes("H", key.index_key, message).hex())
    return out


def index_in(column, value, *, context):
    """`column IN (every live index of value)`: the lookup by ID number, phone or recovery code."""
    return column.in_(index_values(value, context=context))


def index_matches(stored, value, *, context):
    """True when the stored index value is `value`'s under the stored value's own version and HMAC."""
    if stored is None or value is None:
        return False
    letter, version = header_of(stored)
    key = keyring.current().versions.get(version)
    if key is None:
        return False
    digest = mac_bytes("H" if letter == LEGACY else letter, key.index_key, _message(value, context)).hex()
    expected = digest if letter == LEGACY else f"{letter}{version}:{digest}"
    return hmac.compare_digest(stored, expected)


def index_is_current(stored, ring=None):
    return stored is None or stored.startswith(f"{(ring or keyring.current()).index_header}:")


def mask_id_number(value):
    """110105********002X"""
    return f"{value[:6]}{'*' * 8}{value[-4:]}" if value and len(value) == 18 else "******"


def mask_phone(value):
    """138****0000"""
    return f"{value[:3]}****{value[-4:]}" if value and len(value) == 11 else "****"


def encrypt_json(data, *, context):
    return encrypt(json.dumps(data, ensure_ascii=False, sort_keys=True), context=context)


def decrypt_json(token, *, context):
    return json.loads(decrypt(token, context=context))


def open_sealed(owner, token, *, context):
    """decrypt_json, remembered on `owner` per (context, token): a model property read many times in one request
    decrypts once, and a new token (after a write) is decrypted afresh. Returns a fresh dict each time."""
    cache = owner.__dict__.setdefault("_pii_plaintext", {})
    key = (context, token)
    if key not in cache:
        cache.clear()
        cache[key] = decrypt(token, context=context)
    return json.loads(cache[key])
