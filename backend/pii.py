"""Personal data at rest: AES-256-GCM ciphertext, an HMAC-SHA256 lookup index under a second key, and masking.

The primitives sit behind this one module so they can move to SM4/SM3 if the commercial-cryptography assessment
(密评) asks for it. Neither key is stored in the database.
"""

import base64
import hashlib
import hmac
import os

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from flask import current_app

_VERSION = b"\x01"


def _key(name):
    raw = current_app.config[name]
    key = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4))
    if len(key) != 32:
        raise RuntimeError(f"{name} must be urlsafe base64 of 32 bytes")
    return key


def encrypt(value, *, context):
    """Encrypt `value` (str) bound to `context` (e.g. "veteran.id_number") as associated data; returns str."""
    if value is None:
        return None
    nonce = os.urandom(12)
    ciphertext = AESGCM(_key("PII_ENCRYPTION_KEY")).encrypt(nonce, value.encode(), context.encode())
    return base64.urlsafe_b64encode(_VERSION + nonce + ciphertext).decode()


def decrypt(token, *, context):
    if token is None:
        return None
    blob = base64.urlsafe_b64decode(token)
    if blob[:1] != _VERSION:
        raise ValueError("unknown ciphertext version")
    return AESGCM(_key("PII_ENCRYPTION_KEY")).decrypt(blob[1:13], blob[13:], context.encode()).decode()


def blind_index(value, *, context):
    """Deterministic HMAC of a normalized value, for equality lookup without storing the value."""
    if value is None:
        return None
    mac = hmac.new(_key("PII_HMAC_KEY"), f"{context}\x00{value}".encode(), hashlib.sha256)
    return mac.hexdigest()


def mask_id_number(value):
    """110105********002X"""
    return f"{value[:6]}{'*' * 8}{value[-4:]}" if value and len(value) == 18 else "******"


def mask_phone(value):
    """138****0000"""
    return f"{value[:3]}****{value[-4:]}" if value and len(value) == 11 else "****"


def encrypt_json(data, *, context):
    import json

    return encrypt(json.dumps(data, ensure_ascii=False, sort_keys=True), context=context)


def decrypt_json(token, *, context):
    import json

    return json.loads(decrypt(token, context=context))


def open_sealed(owner, token, *, context):
    """decrypt_json, remembered on `owner` per (context, token): a model property read many times in one request
    decrypts once, and a new token (after a write) is decrypted afresh. Returns a fresh dict each time."""
    import json

    cache = owner.__dict__.setdefault("_pii_plaintext", {})
    key = (context, token)
    if key not in cache:
        cache.clear()
        cache[key] = decrypt(token, context=context)
    return json.loads(cache[key])
