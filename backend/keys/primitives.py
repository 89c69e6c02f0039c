"""The cryptographic primitives behind backend/pii.py and the audit chain, from the pinned `cryptography` package.

Sealing: AES-256-GCM (letter "A") or SM4-GCM (letter "S", GB/T 32907 block cipher in GCM mode), a 12-byte random
nonce and a 16-byte tag, the context bound as associated data. Lookup index and audit chain: HMAC-SHA256 (letter "H")
or HMAC-SM3 (letter "M", GB/T 32905). A key version holds 32 bytes for sealing and 32 for the index; AES-256 uses the
sealing key as is, SM4 (128-bit) a subkey derived from it with HMAC-SM3 (so one key file serves either cipher).
"""

import functools
import hashlib
import hmac as std_hmac

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import hmac as c_hmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

CIPHERS = {"aes-256-gcm": "A", "sm4-gcm": "S"}  # PII_CIPHER value -> header letter
MAC_FOR_CIPHER = {"A": "H", "S": "M"}  # the index follows the cipher: AES with HMAC-SHA256, SM4 with HMAC-SM3
DIGESTS = {"sha256": "H", "sm3": "M"}  # AUDIT_CHAIN_DIGEST value -> letter
NONCE, TAG = 12, 16


@functools.lru_cache(maxsize=32)
def sm4_subkey(key):
    """The 128-bit SM4 key of a 32-byte sealing key: HMAC-SM3(key, label), first 16 bytes."""
    return mac_bytes("M", key, b"veterans/pii/sm4-gcm")[:16]


def seal(letter, key, nonce, plaintext, aad):
    """nonce + ciphertext + tag."""
    if letter == "A":
        return nonce + AESGCM(key).encrypt(nonce, plaintext, aad)
    if letter == "S":
        encryptor = Cipher(algorithms.SM4(sm4_subkey(key)), modes.GCM(nonce)).encryptor()
        encryptor.authenticate_additional_data(aad)
        return nonce + encryptor.update(plaintext) + encryptor.finalize() + encryptor.tag
    raise ValueError("unknown cipher")


def unseal(letter, key, blob, aad):
    nonce, body = blob[:NONCE], blob[NONCE:]
    if letter == "A":
        return AESGCM(key).decrypt(nonce, body, aad)
    if letter == "S":
        if len(body) < TAG:
            raise ValueError("ciphertext too short")
        decryptor = Cipher(algorithms.SM4(sm4_subkey(key)), modes.GCM(nonce, body[-TAG:])).decryptor()
        decryptor.authenticate_additional_data(aad)
        return decryptor.update(body[:-TAG]) + decryptor.finalize()
    raise ValueError("unknown cipher")


class Mac:
    """An HMAC state with update / copy / hexdigest under either digest (the audit chain copies a keyed state)."""

    def __init__(self, letter, key, _state=None):
        self.letter = letter
        if _state is not None:
            self._state = _state
        elif letter == "H":
            self._state = std_hmac.new(key, digestmod=hashlib.sha256)
        elif letter == "M":
            self._state = c_hmac.HMAC(key, hashes.SM3())
        else:
            raise ValueError("unknown digest")

    def update(self, data):
        self._state.update(data)

    def copy(self):
        return Mac(self.letter, None, _state=self._state.copy())

    def digest(self):
        return self._state.digest() if self.letter == "H" else self._state.copy().finalize()

    def hexdigest(self):
        return self.digest().hex()


def mac_bytes(letter, key, message):
    state = Mac(letter, key)
    state.update(message)
    return state.digest()


def sm3(data):
    """Plain SM3 (for the GB/T 32905 test vectors)."""
    digest = hashes.Hash(hashes.SM3())
    digest.update(data)
    return digest.finalize()
