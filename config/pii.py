"""Personal data keys (issue 15), mixed into Base: the cipher, the key versions' sources, rotation and the audit
chain's digest. Key material is read from the environment or a mounted file, never from the database
(backend/keys/keyring.py; docs/pii-keys.md)."""

from config.env import env, env_bool, env_int


class PiiSettings:
    PII_CIPHER = env("PII_CIPHER", "aes-256-gcm")  # or sm4-gcm (with HMAC-SM3 for the index): 密评 deployments
    PII_KEYS = env("PII_KEYS")  # "1:<seal>:<index>,2:<seal>:<index>"; the newest version seals
    PII_KEY_FILE = env("PII_KEY_FILE")  # JSON {"versions": [{"version", "seal", "index"}]}, mounted read-only
    PII_KEY_PROVIDER = env("PII_KEY_PROVIDER")  # "module:function" for a KMS / 密码机 later
    PII_ROTATION_BATCH = env_int("PII_ROTATION_BATCH", 500)  # rows per transaction of the rotation job
    PII_ROTATION_TASK_SECONDS = env_int("PII_ROTATION_TASK_SECONDS", 240)  # then the task enqueues itself again
    PII_STARTUP_CHECK = env_bool("PII_STARTUP_CHECK", True)  # refuse to start on a retired version still referenced
    AUDIT_CHAIN_DIGEST = env("AUDIT_CHAIN_DIGEST", "sha256")  # or sm3 (HMAC-SM3), chosen once per deployment


def validate_pii(cls):
    """Build the keyring of a configuration class (RuntimeError on any problem) and check the audit digest."""
    from backend.keys.keyring import build

    build(lambda name: getattr(cls, name, None))
    if cls.AUDIT_CHAIN_DIGEST not in ("sha256", "sm3"):
        raise RuntimeError("AUDIT_CHAIN_DIGEST must be sha256 or sm3")


def refuse_default_keys(cls, defaults):
    """Production: no key of any version may be a development or test value found in the repository."""
    import base64

    from backend.keys.keyring import build

    known = {base64.urlsafe_b64encode(base64.urlsafe_b64decode(v + "=" * (-len(v) % 4))) for v in _b64(defaults)}
    for key in build(lambda name: getattr(cls, name, None)).versions.values():
        if {base64.urlsafe_b64encode(key.seal_key), base64.urlsafe_b64encode(key.index_key)} & known:
            raise RuntimeError(f"PII key version {key.version} equals a development default; generate new keys")


def _b64(values):
    import base64
    import binascii

    out = []
    for value in values:
        try:
            base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
        except (binascii.Error, ValueError):
            continue
        out.append(value)
    return out


def has_versioned_keys(cls):
    return bool(cls.PII_KEYS or cls.PII_KEY_FILE or cls.PII_KEY_PROVIDER)
