"""Key versions for personal data: where the key material comes from, and which version seals.

Sources, combined (a version number may appear once):
- PII_ENCRYPTION_KEY + PII_HMAC_KEY: the single key pair of deployments before issue 15, read as version 0 (its old
  header-less values keep reading; new values get headers);
- PII_KEYS: "1:<seal key>:<index key>,2:<seal key>:<index key>" (urlsafe base64 of 32 bytes each);
- PII_KEY_FILE: a JSON file mounted by the deployment (docs/pii-keys.md):
  {"versions": [{"version": 2, "seal": "<base64>", "index": "<base64>"}]};
- PII_KEY_PROVIDER: "module:function" returning such dicts, for a KMS or a cipher machine (密码机) later.
The newest version seals and indexes under PII_CIPHER; every configured version unseals. Key material never comes
from the database and never reaches a log: KeyVersion's repr shows the version only.
"""

import base64
import binascii
import importlib
import json
from dataclasses import dataclass, field

from backend.keys.primitives import CIPHERS, MAC_FOR_CIPHER

LEGACY_VERSION = 0
MAX_VERSION = 9999


class KeyConfigError(RuntimeError):
    """The key configuration cannot run (the message names the setting, never a key)."""


@dataclass(frozen=True)
class KeyVersion:
    version: int
    seal_key: bytes = field(repr=False)
    index_key: bytes = field(repr=False)


@dataclass(frozen=True)
class Keyring:
    versions: dict  # version -> KeyVersion
    cipher: str  # header letter of PII_CIPHER: "A" or "S"

    @property
    def newest(self):
        return self.versions[max(self.versions)]

    @property
    def seal_header(self):
        return f"{self.cipher}{self.newest.version}"

    @property
    def index_header(self):
        return f"{MAC_FOR_CIPHER[self.cipher]}{self.newest.version}"

    def get(self, version):
        try:
            return self.versions[version]
        except KeyError:
            raise KeyConfigError(f"no key configured for version {version}") from None


def decode(name, raw):
    try:
        key = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4))
    except (binascii.Error, ValueError):
        raise KeyConfigError(f"{name} is not urlsafe base64") from None
    if len(key) != 32:
        raise KeyConfigError(f"{name} must be urlsafe base64 of 32 bytes")
    return key


def _entry(where, version, seal, index):
    try:
        version = int(version)
    except (TypeError, ValueError):
        raise KeyConfigError(f"{where}: a version must be a number") from None
    if not 1 <= version <= MAX_VERSION:
        raise KeyConfigError(f"{where}: versions run from 1 to {MAX_VERSION} (0 is PII_ENCRYPTION_KEY/PII_HMAC_KEY)")
    seal_key, index_key = decode(f"{where} v{version} seal key", seal), decode(f"{where} v{version} index key", index)
    if seal_key == index_key:
        raise KeyConfigError(f"{where} v{version}: the index key must differ from the seal key")
    return KeyVersion(version, seal_key, index_key)


def _from_env(value):
    out = []
    for part in filter(None, (p.strip() for p in value.split(","))):
        pieces = part.split(":")
        if len(pieces) != 3:
            raise KeyConfigError("PII_KEYS: each entry is version:seal_key:index_key")
        out.append(_entry("PII_KEYS", *pieces))
    return out


def _from_dicts(where, items):
    try:
        return [_entry(where, item["version"], item["seal"], item["index"]) for item in items]
    except (KeyError, TypeError):
        raise KeyConfigError(f"{where}: each version needs version, seal and index") from None


def _from_file(path):
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, ValueError):
        raise KeyConfigError("PII_KEY_FILE cannot be read as JSON") from None
    return _from_dicts("PII_KEY_FILE", data.get("versions") if isinstance(data, dict) else None)


def _from_provider(spec):
    module, _, name = spec.partition(":")
    try:
        provider = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError, ValueError):
        raise KeyConfigError("PII_KEY_PROVIDER is not an importable module:function") from None
    return _from_dicts("PII_KEY_PROVIDER", provider())


def build(get):
    """The keyring of a configuration; `get(name)` reads a setting (a config class or current_app.config)."""
    cipher = (get("PII_CIPHER") or "aes-256-gcm").lower()
    if cipher not in CIPHERS:
        raise KeyConfigError(f"PII_CIPHER must be one of {', '.join(CIPHERS)}")
    found = []
    legacy = get("PII_ENCRYPTION_KEY"), get("PII_HMAC_KEY")
    if all(legacy):
        seal_key, index_key = decode("PII_ENCRYPTION_KEY", legacy[0]), decode("PII_HMAC_KEY", legacy[1])
        if seal_key == index_key:
            raise KeyConfigError("PII_HMAC_KEY must differ from PII_ENCRYPTION_KEY")
        found.append(KeyVersion(LEGACY_VERSION, seal_key, index_key))
    if get("PII_KEYS"):
        found += _from_env(get("PII_KEYS"))
    if get("PII_KEY_FILE"):
        found += _from_file(get("PII_KEY_FILE"))
    if get("PII_KEY_PROVIDER"):
        found += _from_provider(get("PII_KEY_PROVIDER"))
    if not found:
        raise KeyConfigError("no personal data key: set PII_KEYS, PII_KEY_FILE or PII_ENCRYPTION_KEY + PII_HMAC_KEY")
    versions = {}
    for key in found:
        if key.version in versions:
            raise KeyConfigError(f"key version {key.version} is configured twice")
        versions[key.version] = key
    materials = [k.seal_key for k in found] + [k.index_key for k in found]
    if len(set(materials)) != len(materials):
        raise KeyConfigError("every key of every version must differ: one secret per purpose")
    return Keyring(versions, CIPHERS[cipher])


SETTINGS = ("PII_CIPHER", "PII_ENCRYPTION_KEY", "PII_HMAC_KEY", "PII_KEYS", "PII_KEY_FILE", "PII_KEY_PROVIDER")


def current():
    """The keyring of the current app, built once per distinct configuration."""
    from flask import current_app

    config = current_app.config
    signature = tuple(config.get(name) for name in SETTINGS)
    cache = current_app.extensions.setdefault("pii_keyring", {})
    if signature not in cache:
        cache.clear()
        cache[signature] = build(config.get)
    return cache[signature]
