"""backend/pii.py with key versions: headers, both ciphers, the legacy format, lookups over every live version."""

import base64
import json
import os

import pytest
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from backend import pii
from backend.keys import keyring
from config import settings
from tests.keys.helpers import pii_keys, use_keys

ID = "veteran.id_number"
NUMBER = "110105199001011234"


def _legacy_token(value, context):
    """A value as sealed before issue 15: b"\\x01" + nonce + AES-GCM under PII_ENCRYPTION_KEY, no header."""
    key = keyring.decode("PII_ENCRYPTION_KEY", settings.TEST_PII_ENCRYPTION_KEY)
    nonce = os.urandom(12)
    blob = b"\x01" + nonce + AESGCM(key).encrypt(nonce, value.encode(), context.encode())
    return base64.urlsafe_b64encode(blob).decode()


@pytest.mark.parametrize("cipher,letter", [("aes-256-gcm", "A"), ("sm4-gcm", "S")])
def test_round_trip_under_each_cipher_names_cipher_and_version(app, monkeypatch, cipher, letter):
    use_keys(monkeypatch, app, 1, 2, cipher=cipher)
    token = pii.encrypt(NUMBER, context=ID)
    assert token.startswith(f"{letter}2:") and NUMBER not in token
    assert pii.decrypt(token, context=ID) == NUMBER
    assert pii.decrypt_json(pii.encrypt_json({"去向": "香港"}, context="t"), context="t") == {"去向": "香港"}
    index = pii.blind_index(NUMBER, context=ID)
    assert index.startswith(f"{'H' if letter == 'A' else 'M'}2:") and len(index) == 3 + 64
    with pytest.raises(InvalidTag):
        pii.decrypt(token, context="veteran.phone")  # the context is bound


def test_legacy_values_read_as_version_0(app):
    token = _legacy_token(NUMBER, ID)
    assert pii.header_of(token) == (pii.LEGACY, 0)
    assert pii.decrypt(token, context=ID) == NUMBER
    assert not pii.is_current(token)
    assert pii.is_current(pii.reseal(token, context=ID))


def test_without_pii_keys_the_legacy_pair_seals_as_version_0(app):
    token = pii.encrypt(NUMBER, context=ID)
    assert token.startswith("A0:") and pii.decrypt(token, context=ID) == NUMBER


def test_values_sealed_under_v1_read_after_v2_is_added(app, monkeypatch):
    use_keys(monkeypatch, app, 1, cipher="sm4-gcm")
    old, old_index = pii.encrypt(NUMBER, context=ID), pii.blind_index(NUMBER, context=ID)
    use_keys(monkeypatch, app, 1, 2)
    new = pii.encrypt(NUMBER, context=ID)
    assert pii.version_of(old) == 1 and pii.version_of(new) == 2
    assert pii.decrypt(old, context=ID) == pii.decrypt(new, context=ID) == NUMBER
    values = pii.index_values(NUMBER, context=ID)
    assert old_index in values and pii.blind_index(NUMBER, context=ID) in values
    assert pii.index_matches(old_index, NUMBER, context=ID) and not pii.index_matches(old_index, "x", context=ID)


def test_a_version_no_longer_configured_cannot_unseal(app, monkeypatch):
    use_keys(monkeypatch, app, 1)
    token = pii.encrypt(NUMBER, context=ID)
    use_keys(monkeypatch, app, 2, legacy=False)
    with pytest.raises(keyring.KeyConfigError, match="no key configured for version 1"):
        pii.decrypt(token, context=ID)


def test_legacy_header_less_index_still_matches(app):
    legacy = pii.index_values(NUMBER, context=ID)[-1]
    assert len(legacy) == 64 and ":" not in legacy
    assert pii.index_matches(legacy, NUMBER, context=ID)


def test_key_file_supplies_versions(app, monkeypatch, tmp_path):
    from tests.keys.helpers import key

    path = tmp_path / "pii-keys.json"
    path.write_text(json.dumps({"versions": [{"version": 3, "seal": key("seal", 3), "index": key("index", 3)}]}))
    monkeypatch.setitem(app.config, "PII_KEY_FILE", str(path))
    assert pii.encrypt(NUMBER, context=ID).startswith("A3:")


@pytest.mark.parametrize(
    "settings_,message",
    [
        ({"PII_CIPHER": "des"}, "PII_CIPHER must be one of"),
        ({"PII_KEYS": "1:abc"}, "version:seal_key:index_key"),
        ({"PII_KEYS": "x:a:b"}, "a version must be a number"),
        ({"PII_KEYS": pii_keys(1) + "," + pii_keys(1)}, "configured twice"),
        ({"PII_KEYS": "1:" + "a" * 43 + ":" + "a" * 43}, "index key must differ"),
        ({"PII_KEY_FILE": "/nonexistent/keys.json"}, "PII_KEY_FILE cannot be read"),
        ({"PII_KEY_PROVIDER": "nowhere:nothing"}, "PII_KEY_PROVIDER is not an importable"),
    ],
)
def test_bad_key_configurations_refuse_to_start(settings_, message):
    bad = type("BadKeys", (settings.Test,), settings_)
    with pytest.raises(RuntimeError, match=message):
        bad.validate()


def test_production_accepts_pii_keys_instead_of_the_legacy_pair(monkeypatch):
    import importlib

    import config.pii
    from tests.test_config import SECRETS, _production

    env = {k: v for k, v in SECRETS.items() if k not in ("PII_ENCRYPTION_KEY", "PII_HMAC_KEY")}
    monkeypatch.setenv("PII_KEYS", pii_keys(1))
    monkeypatch.setenv("PII_CIPHER", "sm4-gcm")
    importlib.reload(config.pii)  # the mixin reads the environment when imported
    try:
        production = _production(monkeypatch, **env)
        production.validate()
        assert production.PII_CIPHER == "sm4-gcm"
        monkeypatch.delenv("PII_KEYS")
        importlib.reload(config.pii)
        with pytest.raises(RuntimeError, match="missing: PII_ENCRYPTION_KEY, PII_HMAC_KEY"):
            _production(monkeypatch, **env).validate()
    finally:
        monkeypatch.undo()
        importlib.reload(config.pii)
        importlib.reload(settings)


def test_key_material_never_shows_in_a_repr(app, monkeypatch):
    use_keys(monkeypatch, app, 1)
    ring = keyring.current()
    assert "seal_key" not in repr(ring.newest) and repr(ring.newest) == "KeyVersion(version=1)"


def test_production_refuses_a_test_key_in_pii_keys(monkeypatch):
    import importlib

    import config.pii
    from tests.test_config import SECRETS, _production

    env = {k: v for k, v in SECRETS.items() if k not in ("PII_ENCRYPTION_KEY", "PII_HMAC_KEY")}
    monkeypatch.setenv("PII_KEYS", f"1:{settings.TEST_PII_ENCRYPTION_KEY}:{settings.TEST_PII_HMAC_KEY}")
    importlib.reload(config.pii)
    try:
        with pytest.raises(RuntimeError, match="PII key version 1 equals a development default"):
            _production(monkeypatch, **env).validate()
    finally:
        monkeypatch.undo()
        importlib.reload(config.pii)
        importlib.reload(settings)
