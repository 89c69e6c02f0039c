"""Configuration: APP_ENV picks the class, production refuses to start without its secrets."""

import importlib

import pytest

pytestmark = pytest.mark.no_db

SECRETS = {
    "SECRET_KEY": "s" * 40,
    "JWT_SECRET_KEY": "j" * 40,
    "PII_ENCRYPTION_KEY": "k" * 44,
    "PII_HMAC_KEY": "h" * 44,
    "DATABASE_URL": "postgresql+psycopg://u@db/veterans",
    "CELERY_BROKER_URL": "redis://redis:6379/0",
    "REDIS_URL": "redis://redis:6379/1",
    "RATELIMIT_STORAGE_URI": "redis://redis:6379/2",
    "WECHAT_API_BASE": "https://api.weixin.qq.com/",
    "WECHAT_SECRET": "w" * 32,
    "WECHAT_PUSH_TOKEN": "t" * 32,
    "WECHAT_PUSH_AES_KEY": "a" * 43,
    "UPLOAD_DIR": "/srv/shared/uploads",
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
