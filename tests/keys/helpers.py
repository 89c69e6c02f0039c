"""Key configurations for the issue 15 tests: fixed, test-only key versions."""

import base64


def key(label, version):
    return base64.urlsafe_b64encode(f"{label}-{version}".ljust(32, "#").encode()).decode()


def pii_keys(*versions):
    """A PII_KEYS value holding `versions`."""
    return ",".join(f"{v}:{key('seal', v)}:{key('index', v)}" for v in versions)


def use_keys(monkeypatch, flask_app, *versions, cipher="aes-256-gcm", legacy=True):
    """Point `flask_app` at key `versions` (plus the legacy pair as version 0 unless `legacy` is False)."""
    monkeypatch.setitem(flask_app.config, "PII_KEYS", pii_keys(*versions) if versions else None)
    monkeypatch.setitem(flask_app.config, "PII_CIPHER", cipher)
    if not legacy:
        monkeypatch.setitem(flask_app.config, "PII_ENCRYPTION_KEY", None)
        monkeypatch.setitem(flask_app.config, "PII_HMAC_KEY", None)
