"""Configuration: APP_ENV picks the class, production refuses to start without its secrets."""

import base64
import importlib

import pytest

pytestmark = pytest.mark.no_db

SECRETS = {
    "SECRET_KEY": "s" * 40,
    "JWT_SECRET_KEY": "j" * 40,
    "PII_ENCRYPTION_KEY": base64.urlsafe_b64encode(b"k" * 32).decode(),
    "PII_HMAC_KEY": base64.urlsafe_b64encode(b"h" * 32).decode(),
    "WECHAT_APPID": "wx1234567890abcdef",
    "DATABASE_URL": "postgresql+psycopg://u@db/veterans",
    "CELERY_BROKER_URL": "redis://redis:6379/0",
    "REDIS_URL": "redis://redis:6379/1",
    "RATELIMIT_STORAGE_URI": "redis://redis:6379/2",
    "WECHAT_API_BASE": "https://api.weixin.qq.com/",
    "WECHAT_SECRET": "w" * 32,
    "WECHAT_PUSH_TOKEN": "t" * 32,
    "WECHAT_PUSH_AES_KEY": "a" * 43,
    "UPLOAD_DIR": "/srv/shared/uploads",
    "EXPORT_DIR": "/srv/shared/exports",
    "AUDIT_CHAIN_KEY": "c" * 40,  # auditchain slice
}


def _production(monkeypatch, **env):
    for key in SECRETS:
        monkeypatch.delenv(key, raising=False)
    monkeypatch.delenv("REDIS_URL", raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    import config.settings as settings

    settings = importlib.reload(settings)
    return settings.get_config("production")


@pytest.fixture(autouse=True)
def _restore():
    yield
    import config.settings as settings

    importlib.reload(settings)


def test_production_with_all_secrets_validates(monkeypatch):
    _production(monkeypatch, **SECRETS).validate()


@pytest.mark.parametrize(
    "missing", ["SECRET_KEY", "JWT_SECRET_KEY", "PII_ENCRYPTION_KEY", "PII_HMAC_KEY", "DATABASE_URL"]
)
def test_production_refuses_to_start_without_a_secret(monkeypatch, missing):
    env = {k: v for k, v in SECRETS.items() if k != missing}
    with pytest.raises(RuntimeError, match="missing"):
        _production(monkeypatch, **env).validate()


@pytest.mark.parametrize(
    "key,value",
    [("DATABASE_URL", "sqlite:///x.db"), ("WECHAT_API_BASE", "http://127.0.0.1:8001/"), ("SECRET_KEY", "short")],
)
def test_production_refuses_development_backends(monkeypatch, key, value):
    with pytest.raises(RuntimeError):
        _production(monkeypatch, **{**SECRETS, key: value}).validate()


def test_create_app_calls_validate(monkeypatch):
    from backend import create_app

    with pytest.raises(RuntimeError):
        create_app(_production(monkeypatch))


def test_app_env_selects_class(monkeypatch):
    import config.settings as settings

    monkeypatch.setenv("APP_ENV", "test")
    assert settings.get_config().APP_ENV == "test"
    with pytest.raises(RuntimeError):
        settings.get_config("staging")


# auditchain slice (issue 10)
@pytest.mark.parametrize(
    "env",
    [
        {"AUDIT_CHAIN_KEY": "dev-only-audit-chain-key-change-me-000000000"},
        {"AUDIT_CHAIN_KEY": "short"},
        {"AUDIT_CHECKPOINT_FILE": ""},
    ],
)
def test_production_refuses_a_weak_audit_chain_key_or_no_checkpoint_sink(monkeypatch, env):
    with pytest.raises(RuntimeError, match="AUDIT_C"):
        _production(monkeypatch, **{**SECRETS, **env}).validate()


# --- tokens slice (issue 10): the start-up refusals ------------------------------------------------------------------


def _b64(raw):
    return base64.urlsafe_b64encode(raw).decode()


@pytest.mark.parametrize(
    "env,message",
    [
        ({"WECHAT_PUSH_AES_KEY": ""}, "missing: WECHAT_PUSH_AES_KEY"),
        ({"WECHAT_PUSH_AES_KEY": "a" * 42}, "EncodingAESKey"),
        ({"WECHAT_APPID": ""}, "missing: WECHAT_APPID"),
        ({"WECHAT_APPID": "wxdemo0000000000"}, "demo WECHAT_APPID"),
        ({"WECHAT_API_BASE": "http://api.weixin.qq.com/"}, "https://"),
        ({"PII_ENCRYPTION_KEY": _b64(b"k" * 16)}, "PII_ENCRYPTION_KEY must be urlsafe base64 of 32 bytes"),
        ({"PII_HMAC_KEY": _b64(b"h" * 33)}, "PII_HMAC_KEY must be urlsafe base64 of 32 bytes"),
        ({"PII_HMAC_KEY": "not base64 at all!"}, "PII_HMAC_KEY is not urlsafe base64"),
        ({"PII_HMAC_KEY": _b64(b"k" * 32)}, "PII_HMAC_KEY must differ from PII_ENCRYPTION_KEY"),
        ({"PII_HMAC_KEY": _b64(b"k" * 32).rstrip("=")}, "PII_HMAC_KEY must differ from PII_ENCRYPTION_KEY"),
        ({"JWT_SECRET_KEY": "s" * 40}, "JWT_SECRET_KEY must differ from SECRET_KEY"),
    ],
)
def test_production_refuses_to_start(monkeypatch, env, message):
    with pytest.raises(RuntimeError, match=message):
        _production(monkeypatch, **{**SECRETS, **env}).validate()


def _repository_defaults():
    import config.settings as settings

    return {
        "SECRET_KEY": [settings.DEV_SECRET_KEY, settings.TEST_SECRET_KEY],
        "JWT_SECRET_KEY": [settings.DEV_JWT_SECRET_KEY, settings.TEST_JWT_SECRET_KEY, settings.DEV_SECRET_KEY],
        "PII_ENCRYPTION_KEY": [settings.DEV_PII_ENCRYPTION_KEY, settings.TEST_PII_ENCRYPTION_KEY],
        "PII_HMAC_KEY": [settings.DEV_PII_HMAC_KEY, settings.TEST_PII_HMAC_KEY.rstrip("=")],
        "WECHAT_SECRET": [settings.DEMO_WECHAT_SECRET],
        "WECHAT_PUSH_TOKEN": [settings.DEMO_WECHAT_PUSH_TOKEN],
        "WECHAT_PUSH_AES_KEY": [settings.DEMO_WECHAT_PUSH_AES_KEY],
        "AUDIT_CHAIN_KEY": [settings.DEV_AUDIT_CHAIN_KEY, settings.TEST_AUDIT_CHAIN_KEY],
    }


@pytest.mark.parametrize("name", list(_repository_defaults()))
def test_production_refuses_every_development_default_of_every_secret(monkeypatch, name):
    for value in _repository_defaults()[name]:
        with pytest.raises(RuntimeError, match=name):
            _production(monkeypatch, **{**SECRETS, name: value}).validate()


def test_every_secret_setting_is_checked():
    """A new secret setting (a *_KEY, *_SECRET or *_TOKEN) must join SECRET_SETTINGS, so its defaults are refused."""
    import config.settings as settings

    names = {
        name
        for klass in (settings.Base, settings.Development, settings.Test, settings.Production)
        for name in vars(klass)
        if name.endswith(("_KEY", "_SECRET", "_TOKEN")) and name.isupper()
    }
    names -= {"JWT_ERROR_MESSAGE_KEY"}  # a JSON field name, not a secret
    assert names <= set(settings.SECRET_SETTINGS)


def test_development_checks_the_pii_keys_at_start():
    """Not only production: a PII key of the wrong length stops create_app, not the first encryption."""
    import config.settings as settings
    from backend import create_app

    bad = type("BadKeys", (settings.Test,), {"PII_ENCRYPTION_KEY": _b64(b"x" * 24)})
    with pytest.raises(RuntimeError, match="PII_ENCRYPTION_KEY must be urlsafe base64 of 32 bytes"):
        create_app(bad)
    same = type("SameKeys", (settings.Test,), {"PII_HMAC_KEY": settings.TEST_PII_ENCRYPTION_KEY})
    with pytest.raises(RuntimeError, match="must differ"):
        create_app(same)


@pytest.mark.parametrize("module", ["wsgi", "backend.worker"])
def test_gunicorn_and_celery_refuse_to_start_without_app_env(monkeypatch, module):
    """Development must be chosen explicitly: gunicorn's wsgi.py and the Celery worker raise before building an app."""
    import sys

    for value in (None, "", "  "):
        if value is None:
            monkeypatch.delenv("APP_ENV", raising=False)
        else:
            monkeypatch.setenv("APP_ENV", value)
        monkeypatch.delitem(sys.modules, module, raising=False)
        with pytest.raises(RuntimeError, match="APP_ENV is not set"):
            importlib.import_module(module)
    monkeypatch.delitem(sys.modules, module, raising=False)


def test_make_run_chooses_development_explicitly():
    from config.settings import ROOT

    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "run: export APP_ENV ?= development" in makefile


def test_trusted_proxy_count_defaults_to_none_trusted(monkeypatch):
    import config.settings as settings

    monkeypatch.delenv("TRUSTED_PROXY_COUNT", raising=False)
    assert importlib.reload(settings).Production.TRUSTED_PROXY_COUNT == 0
    monkeypatch.setenv("TRUSTED_PROXY_COUNT", "-1")
    with pytest.raises(RuntimeError, match="TRUSTED_PROXY_COUNT"):
        _production(monkeypatch, **{**SECRETS, "TRUSTED_PROXY_COUNT": "-1"}).validate()
