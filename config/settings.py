"""Configuration classes; the only module that reads os.environ.

APP_ENV picks one of Development (the embedded default), Test and Production. Every value can be overridden by an
environment variable of the same name. Production refuses to start when a secret is missing or a development-only
backend (SQLite, eager Celery, the fake WeChat server) is configured.
"""

import os
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
INSTANCE = ROOT / "instance"


def env(name, default=None):
    return os.environ.get(name, default)


def env_int(name, default):
    return int(os.environ.get(name, default))


def env_bool(name, default):
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


class QueueNames:
    """Celery queues; tests/test_queues.py checks that every queue has a worker in the documented command."""

    DEFAULT = "default"
    NOTIFY = "notify"
    IMPORTS = "imports"

    @classmethod
    def all(cls):
        return [cls.DEFAULT, cls.NOTIFY, cls.IMPORTS]


class Base:
    APP_ENV = "base"
    TESTING = False
    DEBUG = False

    SECRET_KEY = env("SECRET_KEY")
    JWT_SECRET_KEY = env("JWT_SECRET_KEY")
    PII_ENCRYPTION_KEY = env("PII_ENCRYPTION_KEY")  # urlsafe base64 of 32 bytes (AES-256-GCM)
    PII_HMAC_KEY = env("PII_HMAC_KEY")  # urlsafe base64 of 32 bytes (HMAC-SHA256)

    SQLALCHEMY_DATABASE_URI = env("DATABASE_URL")
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}

    # Celery: no broker means tasks run in-process (eager), as in the embedded default.
    CELERY_BROKER_URL = env("CELERY_BROKER_URL")
    CELERY_RESULT_BACKEND = env("CELERY_RESULT_BACKEND")
    CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 540)
    CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 600)
    CELERY_VISIBILITY_TIMEOUT = env_int("CELERY_VISIBILITY_TIMEOUT", 3600)
    # Beat runs once; both jobs are idempotent, so hourly runs act once, soon after midnight CST.
    CELERY_BEAT_SCHEDULE = {
        "registration-mark-overdue": {"task": "registration.mark_overdue", "schedule": 3600.0},
        "registration-send-reminders": {"task": "registration.send_reminders", "schedule": 3600.0},
        "travel-mark-overdue": {"task": "travel.mark_overdue", "schedule": 3600.0},
    }
    CELERY_TASK_MODULES = ["backend.veterans.tasks", "backend.registration.tasks", "backend.travel.tasks"]

    REDIS_URL = env("REDIS_URL")
    RATELIMIT_STORAGE_URI = env("RATELIMIT_STORAGE_URI", "memory://")
    RATELIMIT_HEADERS_ENABLED = True
    PORTAL_LOGIN_RATE_LIMIT = env("PORTAL_LOGIN_RATE_LIMIT", "20 per minute")

    WECHAT_API_BASE = env("WECHAT_API_BASE", "http://127.0.0.1:8001/")
    WECHAT_APPID = env("WECHAT_APPID", "wxdemo0000000000")
    WECHAT_SECRET = env("WECHAT_SECRET", "demo-secret")
    WECHAT_PUSH_TOKEN = env("WECHAT_PUSH_TOKEN", "demo-push-token")
    WECHAT_PUSH_AES_KEY = env("WECHAT_PUSH_AES_KEY", "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG")  # 43 characters
    # Plain-mode signatures do not cover the body: production accepts safe mode only, with a fresh timestamp.
    WECHAT_PUSH_REQUIRE_AES = env_bool("WECHAT_PUSH_REQUIRE_AES", False)
    WECHAT_PUSH_MAX_AGE = int(env("WECHAT_PUSH_MAX_AGE")) if env("WECHAT_PUSH_MAX_AGE") else None
    # The subscribe-message templates, as configured in the mini program admin. One-time unless long_term.
    WECHAT_TEMPLATES = [
        {
            "kind": "registration",
            "title": "年度确认办理提醒",
            "template_id": env("WECHAT_TPL_REGISTRATION", "TPL_REGISTRATION"),
        },
        {"kind": "care", "title": "关爱通知", "template_id": env("WECHAT_TPL_CARE", "TPL_CARE")},
        {"kind": "booking", "title": "预约服务提醒", "template_id": env("WECHAT_TPL_BOOKING", "TPL_BOOKING")},
    ]
    JWT_ACCESS_TOKEN_EXPIRES = timedelta(hours=2)
    JWT_REFRESH_TOKEN_EXPIRES = timedelta(days=30)
    JWT_ALGORITHM = "HS256"
    JWT_DECODE_ALGORITHMS = ["HS256"]
    JWT_ENCODE_AUDIENCE = "veterans-miniprogram"
    JWT_DECODE_AUDIENCE = "veterans-miniprogram"
    JWT_TOKEN_LOCATION = ["headers"]
    JWT_ERROR_MESSAGE_KEY = "message"
    API_LOGIN_RATE_LIMIT = env("API_LOGIN_RATE_LIMIT", "30 per minute")
    API_BIND_RATE_LIMIT = env("API_BIND_RATE_LIMIT", "10 per minute")
    API_EVENTS_RATE_LIMIT = env("API_EVENTS_RATE_LIMIT", "600 per minute")

    # Staff sessions (portal).
    STAFF_IDLE_TIMEOUT = timedelta(minutes=env_int("STAFF_IDLE_TIMEOUT_MINUTES", 30))
    STAFF_SESSION_MAX_AGE = timedelta(hours=env_int("STAFF_SESSION_MAX_AGE_HOURS", 12))
    STAFF_LOCK_AFTER_FAILURES = env_int("STAFF_LOCK_AFTER_FAILURES", 5)
    STAFF_LOCK_MINUTES = env_int("STAFF_LOCK_MINUTES", 15)
    STAFF_PASSWORD_MAX_AGE_DAYS = env_int("STAFF_PASSWORD_MAX_AGE_DAYS", 90)
    PERMANENT_SESSION_LIFETIME = STAFF_SESSION_MAX_AGE
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", False)
    WTF_CSRF_TIME_LIMIT = None  # bounded by the session lifetime instead

    MAX_CONTENT_LENGTH = env_int("MAX_CONTENT_LENGTH", 1024 * 1024)  # uploads raise it per request (attachments)
    UPLOAD_DIR = env("UPLOAD_DIR")  # shared storage in production; instance/uploads by default
    BOOTSTRAP_SERVE_LOCAL = True
    FORCE_HTTPS = env_bool("FORCE_HTTPS", False)

    # flask-smorest / OpenAPI
    API_TITLE = "退役军人服务小程序 API"
    API_VERSION = "v1"
    OPENAPI_VERSION = "3.0.3"
    OPENAPI_URL_PREFIX = "/"
    OPENAPI_JSON_PATH = "openapi.json"
    API_SPEC_OPTIONS = {
        "security": [{"bearer": []}],
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}}},
        "info": {"description": "逐月领取退役金退役军人服务小程序接口。错误应答格式与错误代码见 docs/error-codes.md。"},
    }

    LOG_LEVEL = env("LOG_LEVEL", "INFO")
    BENCHMARK_BASELINES = env_bool("BENCHMARK_BASELINES", False)

    @classmethod
    def validate(cls):
        """Raise RuntimeError when the configuration cannot run. Overridden by Production."""


class Development(Base):
    APP_ENV = "development"
    DEBUG = False  # the Werkzeug debugger would show stack traces to users; keep it off even here
    SECRET_KEY = env("SECRET_KEY", "dev-only-secret-key-change-me-000000000000")
    JWT_SECRET_KEY = env("JWT_SECRET_KEY", "dev-only-jwt-key-change-me-00000000000000000")
    # Fixed development keys so the embedded demo database stays readable across restarts. Never used in production.
    PII_ENCRYPTION_KEY = env("PII_ENCRYPTION_KEY", "ZGV2LW9ubHktcGlpLWVuY3J5cHRpb24ta2V5LTAwMDA=")
    PII_HMAC_KEY = env("PII_HMAC_KEY", "ZGV2LW9ubHktcGlpLWhtYWMta2V5LTAwMDAwMDAwMDA=")
    SQLALCHEMY_DATABASE_URI = env("DATABASE_URL", f"sqlite:///{INSTANCE / 'veterans.db'}")


class Test(Base):
    APP_ENV = "test"
    TESTING = True
    SECRET_KEY = "test-secret-key-0000000000000000000000000000"
    JWT_SECRET_KEY = "test-jwt-key-00000000000000000000000000000000"
    PII_ENCRYPTION_KEY = "dGVzdC1vbmx5LXBpaS1lbmNyeXB0aW9uLWtleS0wMDA="
    PII_HMAC_KEY = "dGVzdC1vbmx5LXBpaS1obWFjLWtleS0wMDAwMDAwMDA="
    SQLALCHEMY_DATABASE_URI = env("TEST_DATABASE_URL")  # conftest fills in a temporary SQLite file when unset
    # An impossible broker: an unmocked enqueue fails loudly (GOV.UK Notify's trick). Tests call tasks directly.
    CELERY_BROKER_URL = "redis://invalid.invalid:1/0"
    WTF_CSRF_ENABLED = False  # the browser tests run with CSRF on
    RATELIMIT_ENABLED = True
    RATELIMIT_STORAGE_URI = "memory://"
    WECHAT_API_BASE = "http://fake-wechat.invalid/"  # conftest points it at the in-process fake


class Production(Base):
    APP_ENV = "production"
    WECHAT_SECRET = env("WECHAT_SECRET")
    WECHAT_PUSH_TOKEN = env("WECHAT_PUSH_TOKEN")
    WECHAT_PUSH_AES_KEY = env("WECHAT_PUSH_AES_KEY")
    WECHAT_PUSH_REQUIRE_AES = env_bool("WECHAT_PUSH_REQUIRE_AES", True)
    WECHAT_PUSH_MAX_AGE = int(env("WECHAT_PUSH_MAX_AGE", "300"))
    SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", True)
    FORCE_HTTPS = env_bool("FORCE_HTTPS", True)

    REQUIRED = (
        "SECRET_KEY",
        "WECHAT_SECRET",
        "WECHAT_PUSH_TOKEN",
        "UPLOAD_DIR",
        "JWT_SECRET_KEY",
        "PII_ENCRYPTION_KEY",
        "PII_HMAC_KEY",
        "SQLALCHEMY_DATABASE_URI",
        "CELERY_BROKER_URL",
        "REDIS_URL",
    )

    @classmethod
    def validate(cls):
        missing = [name for name in cls.REQUIRED if not getattr(cls, name)]
        if missing:
            raise RuntimeError(f"Production configuration is missing: {', '.join(missing)}")
        if cls.SQLALCHEMY_DATABASE_URI.startswith("sqlite"):
            raise RuntimeError("Production refuses SQLite; set DATABASE_URL to PostgreSQL")
        if cls.RATELIMIT_STORAGE_URI.startswith("memory"):
            raise RuntimeError("Production needs shared rate-limit storage; set RATELIMIT_STORAGE_URI to Redis")
        if "127.0.0.1:8001" in cls.WECHAT_API_BASE or "fake" in cls.WECHAT_API_BASE:
            raise RuntimeError("Production refuses the fake WeChat server; set WECHAT_API_BASE")
        for name in ("SECRET_KEY", "JWT_SECRET_KEY"):
            if len(getattr(cls, name)) < 32:
                raise RuntimeError(f"{name} must be at least 32 characters (256 bits)")


CONFIGS = {"development": Development, "test": Test, "production": Production}


def get_config(name=None):
    """Return the configuration class for APP_ENV (or `name`), freshly reading the environment."""
    name = (name or env("APP_ENV", "development")).lower()
    if name not in CONFIGS:
        raise RuntimeError(f"Unknown APP_ENV {name!r}; expected one of {', '.join(CONFIGS)}")
    return CONFIGS[name]
