"""Configuration classes; with config/env.py and config/notify.py, the only modules that read os.environ.

APP_ENV picks one of Development (the embedded default), Test and Production. Every value can be overridden by an
environment variable of the same name. Production refuses to start when a secret is missing or a development-only
backend (SQLite, eager Celery, the fake WeChat server) is configured.
"""

import base64
import binascii
import os
from datetime import timedelta
from pathlib import Path

from config.assistance import AssistanceSettings  # care slice (issue 16): hardship assistance
from config.bookings import BookingSettings
from config.care import CareContactSettings  # care slice (issue 16): regular contact
from config.env import env, env_bool, env_int  # noqa: F401  (other modules import them from here)
from config.jobs import JobSettings, QueueNames  # noqa: F401  (QueueNames: imported from here by the app)
from config.notify import NotifySettings
from config.onboarding import OnboardingSettings  # issue 17, Art. 7: onboarding due dates
from config.pension import PensionSettings  # issue 18
from config.pii import PiiSettings, has_versioned_keys, refuse_default_keys, validate_pii

ROOT = Path(__file__).resolve().parent.parent
INSTANCE = ROOT / "instance"


def require_app_env(server):
    """Refuse to serve (gunicorn's wsgi.py, the Celery worker) unless APP_ENV was chosen explicitly.

    A missing APP_ENV would otherwise mean development: fixed keys, SQLite, the fake WeChat server.
    """
    if not os.environ.get("APP_ENV", "").strip():
        raise RuntimeError(
            f"APP_ENV is not set: {server} needs it chosen explicitly (production; or development for a local trial, "
            "as `make run` does)"
        )


# tokens slice (issue 10): every development or test default of a secret in the repository. Production refuses any
# of them for any secret setting, so a copied example or a forgotten default never signs or encrypts real data.
DEV_SECRET_KEY = "dev-only-secret-key-change-me-000000000000"
DEV_JWT_SECRET_KEY = "dev-only-jwt-key-change-me-00000000000000000"
DEV_PII_ENCRYPTION_KEY = "ZGV2LW9ubHktcGlpLWVuY3J5cHRpb24ta2V5LTAwMDA="
DEV_PII_HMAC_KEY = "ZGV2LW9ubHktcGlpLWhtYWMta2V5LTAwMDAwMDAwMDA="
TEST_SECRET_KEY = "test-secret-key-0000000000000000000000000000"
TEST_JWT_SECRET_KEY = "test-jwt-key-00000000000000000000000000000000"
TEST_PII_ENCRYPTION_KEY = "dGVzdC1vbmx5LXBpaS1lbmNyeXB0aW9uLWtleS0wMDA="
TEST_PII_HMAC_KEY = "dGVzdC1vbmx5LXBpaS1obWFjLWtleS0wMDAwMDAwMDA="
DEMO_WECHAT_APPID = "wxdemo0000000000"
DEMO_WECHAT_SECRET = "demo-secret"
DEMO_WECHAT_PUSH_TOKEN = "demo-push-token"
DEMO_WECHAT_PUSH_AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"  # 43 characters
SECRET_SETTINGS = (
    "SECRET_KEY",
    "JWT_SECRET_KEY",
    "PII_ENCRYPTION_KEY",
    "PII_HMAC_KEY",
    "WECHAT_SECRET",
    "WECHAT_PUSH_TOKEN",
    "WECHAT_PUSH_AES_KEY",
    "AUDIT_CHAIN_KEY",
)


def development_secrets():
    """The repository's development and test secret values (the audit chain keys are defined further down)."""
    return {
        value
        for name, value in globals().items()
        if name.startswith(("DEV_", "TEST_", "DEMO_")) and isinstance(value, str) and name != "DEMO_WECHAT_APPID"
    }


def decode_key(name, value):
    """A urlsafe base64 key of exactly 32 bytes, decoded; raises RuntimeError naming the setting otherwise."""
    try:
        key = base64.b64decode(value + "=" * (-len(value) % 4), altchars=b"-_", validate=True)
    except (binascii.Error, ValueError):
        raise RuntimeError(f"{name} is not urlsafe base64") from None
    if len(key) != 32:
        raise RuntimeError(f"{name} must be urlsafe base64 of 32 bytes, not {len(key)}")
    return key


class Base(
    NotifySettings,
    BookingSettings,
    PiiSettings,
    AssistanceSettings,
    CareContactSettings,
    OnboardingSettings,
    PensionSettings,
    JobSettings,
):
    APP_ENV = "base"
    TESTING = False
    DEBUG = False

    SECRET_KEY = env("SECRET_KEY")
    JWT_SECRET_KEY = env("JWT_SECRET_KEY")
    PII_ENCRYPTION_KEY = env("PII_ENCRYPTION_KEY")  # urlsafe base64 of 32 bytes (AES-256-GCM)
    PII_HMAC_KEY = env("PII_HMAC_KEY")  # urlsafe base64 of 32 bytes (HMAC-SHA256)

    SQLALCHEMY_DATABASE_URI = env("DATABASE_URL")
    # hide_parameters: a database error (or SQL logging) never prints the bound values: names, addresses, hashes.
    # lean slice (issue 12): no pool_pre_ping (a round trip on every checkout). backend/db.py pings only a connection
    # idle longer than DB_PING_IDLE_SECONDS; pool_recycle replaces connections older than that many seconds.
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_recycle": env_int("DB_POOL_RECYCLE_SECONDS", 1800), "hide_parameters": True}
    DB_PING_IDLE_SECONDS = env_int("DB_PING_IDLE_SECONDS", 30)
    # issue 21 (P9): the web processes' PostgreSQL statement_timeout in ms (0 = none); a cancelled query answers 503
    # server.busy. Celery workers and migrations never get it (backend/db.py install_web_limits).
    DB_STATEMENT_TIMEOUT_MS = env_int("DB_STATEMENT_TIMEOUT_MS", 0)
    # dbroles slice: migrations run as the owner (MIGRATION_DATABASE_URL; unset = DATABASE_URL, e.g. SQLite), the web
    # and workers as an app role that owns nothing. APP_DATABASE_ROLE names the role `flask db upgrade` grants to
    # (default: the user in DATABASE_URL when it differs from the owner). See backend/dbroles.py.
    MIGRATION_DATABASE_URL = env("MIGRATION_DATABASE_URL")
    APP_DATABASE_ROLE = env("APP_DATABASE_ROLE")

    # Celery: no broker means tasks run in-process (eager), as in the embedded default.
    CELERY_BROKER_URL = env("CELERY_BROKER_URL")
    CELERY_RESULT_BACKEND = env("CELERY_RESULT_BACKEND")
    CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 540)
    CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 600)
    CELERY_VISIBILITY_TIMEOUT = env_int("CELERY_VISIBILITY_TIMEOUT", 3600)

    REDIS_URL = env("REDIS_URL")
    # lean slice (issue 12): how long the phone token check may trust its cached account state (backend/cache.py)
    PRINCIPAL_CACHE_SECONDS = env_int("PRINCIPAL_CACHE_SECONDS", 60)
    # ...and in each process, kept coherent by Redis pub/sub (backend/nearcache.py); 0 turns the near cache off
    PRINCIPAL_LOCAL_SECONDS = env_int("PRINCIPAL_LOCAL_SECONDS", 5)
    RATELIMIT_STORAGE_URI = env("RATELIMIT_STORAGE_URI", "memory://")
    RATELIMIT_HEADERS_ENABLED = True
    PORTAL_LOGIN_RATE_LIMIT = env("PORTAL_LOGIN_RATE_LIMIT", "20 per minute")

    WECHAT_API_BASE = env("WECHAT_API_BASE", "http://127.0.0.1:8001/")
    WECHAT_APPID = env("WECHAT_APPID", DEMO_WECHAT_APPID)
    WECHAT_SECRET = env("WECHAT_SECRET", DEMO_WECHAT_SECRET)
    WECHAT_PUSH_TOKEN = env("WECHAT_PUSH_TOKEN", DEMO_WECHAT_PUSH_TOKEN)
    WECHAT_PUSH_AES_KEY = env("WECHAT_PUSH_AES_KEY", DEMO_WECHAT_PUSH_AES_KEY)
    # Plain-mode signatures do not cover the body: production accepts safe mode only, with a fresh timestamp.
    WECHAT_PUSH_REQUIRE_AES = env_bool("WECHAT_PUSH_REQUIRE_AES", False)
    WECHAT_PUSH_MAX_AGE = int(env("WECHAT_PUSH_MAX_AGE")) if env("WECHAT_PUSH_MAX_AGE") else None
    # The subscribe-message templates, as configured in the mini program admin. One-time unless long_term.
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
    # staffsec slice (issue 10): TOTP second factor. Always required for the three administrator roles (MLPS level 3);
    # this setting extends it to every staff account.
    STAFF_TOTP_REQUIRED_FOR_ALL = env_bool("STAFF_TOTP_REQUIRED_FOR_ALL", False)
    STAFF_TOTP_ISSUER = env("STAFF_TOTP_ISSUER", "退役军人服务管理系统")
    PERMANENT_SESSION_LIFETIME = STAFF_SESSION_MAX_AGE
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", False)
    WTF_CSRF_TIME_LIMIT = None  # bounded by the session lifetime instead

    MAX_CONTENT_LENGTH = env_int("MAX_CONTENT_LENGTH", 1024 * 1024)  # uploads raise it per request (attachments)
    UPLOAD_DIR = env("UPLOAD_DIR")  # shared storage in production; instance/uploads by default
    # exports slice (issue 12): export files (shared storage in production, like UPLOAD_DIR; instance/exports by
    # default), how long a download link lives, rows per sheet (Excel's limit is 1,048,576), and the export task's
    # own time limits, sized for 1M rows and kept under CELERY_VISIBILITY_TIMEOUT.
    EXPORT_DIR = env("EXPORT_DIR")
    EXPORT_LINK_TTL = timedelta(hours=env_int("EXPORT_LINK_TTL_HOURS", 24))
    EXPORT_SHEET_ROWS = env_int("EXPORT_SHEET_ROWS", 500_000)
    EXPORT_TASK_SOFT_TIME_LIMIT = env_int("EXPORT_TASK_SOFT_TIME_LIMIT", 1800)
    EXPORT_TASK_TIME_LIMIT = env_int("EXPORT_TASK_TIME_LIMIT", 2000)
    # issue 10, files slice: uploads are scanned by clamd over this UNIX socket when set (a no-op scanner otherwise)
    CLAMD_SOCKET = env("CLAMD_SOCKET")
    CLAMD_TIMEOUT = float(env("CLAMD_TIMEOUT", "30"))
    # auditchain slice (issue 10): the audit chain's HMAC key (never stored in the database) and the checkpoint sinks
    # outside the database: an append-only file and/or a syslog address ("/dev/log" or "host:port").
    AUDIT_CHAIN_KEY = env("AUDIT_CHAIN_KEY")
    AUDIT_CHECKPOINT_FILE = env("AUDIT_CHECKPOINT_FILE", str(INSTANCE / "audit-checkpoints.log"))
    AUDIT_CHECKPOINT_SYSLOG = env("AUDIT_CHECKPOINT_SYSLOG")
    BOOTSTRAP_SERVE_LOCAL = True
    FORCE_HTTPS = env_bool("FORCE_HTTPS", False)
    # tokens slice (issue 10): how many reverse proxies in front of the app append to X-Forwarded-For/-Proto. 0 trusts
    # none (the header is ignored); behind one nginx, 1. Rate limits and audit rows use the address this yields.
    TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)

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
    # bench slice (issue 12): the baseline endpoints of miniprogram_api/bench (bare JSON, one ORM select, the same on
    # raw psycopg, an authenticated no-op, a no-op Celery publish). Benchmark servers only; never in production.
    BENCHMARK_ENDPOINTS = env_bool("BENCHMARK_ENDPOINTS", False)

    @classmethod
    def validate(cls):
        """Raise RuntimeError when the configuration cannot run; Production adds its refusals. The PII keys are
        checked here, at start, in every environment (not at first use)."""
        keys = {
            name: decode_key(name, getattr(cls, name))
            for name in ("PII_ENCRYPTION_KEY", "PII_HMAC_KEY")
            if getattr(cls, name)
        }
        if len(keys) == 2 and keys["PII_ENCRYPTION_KEY"] == keys["PII_HMAC_KEY"]:
            raise RuntimeError("PII_HMAC_KEY must differ from PII_ENCRYPTION_KEY")
        if len(keys) == 2 or has_versioned_keys(cls):  # issue 15: every key version, the cipher, the audit digest
            validate_pii(cls)
        if cls.TRUSTED_PROXY_COUNT < 0:
            raise RuntimeError("TRUSTED_PROXY_COUNT must be 0 or more")
        if not cls.EXPORT_TASK_SOFT_TIME_LIMIT < cls.EXPORT_TASK_TIME_LIMIT < cls.CELERY_VISIBILITY_TIMEOUT:
            raise RuntimeError(  # exports slice (issue 12): a redelivery must not start while the export still runs
                "EXPORT_TASK_SOFT_TIME_LIMIT < EXPORT_TASK_TIME_LIMIT < CELERY_VISIBILITY_TIMEOUT is required"
            )


# auditchain slice: the repository's audit chain keys, which production refuses.
DEV_AUDIT_CHAIN_KEY = "dev-only-audit-chain-key-change-me-000000000"
TEST_AUDIT_CHAIN_KEY = "test-audit-chain-key-000000000000000000000000"


class Development(Base):
    APP_ENV = "development"
    DEBUG = False  # the Werkzeug debugger would show stack traces to users; keep it off even here
    SECRET_KEY = env("SECRET_KEY", DEV_SECRET_KEY)
    JWT_SECRET_KEY = env("JWT_SECRET_KEY", DEV_JWT_SECRET_KEY)
    # Fixed development keys so the embedded demo database stays readable across restarts. Never used in production.
    PII_ENCRYPTION_KEY = env("PII_ENCRYPTION_KEY", DEV_PII_ENCRYPTION_KEY)
    PII_HMAC_KEY = env("PII_HMAC_KEY", DEV_PII_HMAC_KEY)
    SQLALCHEMY_DATABASE_URI = env("DATABASE_URL", f"sqlite:///{INSTANCE / 'veterans.db'}")
    AUDIT_CHAIN_KEY = env("AUDIT_CHAIN_KEY", DEV_AUDIT_CHAIN_KEY)  # auditchain slice


class Test(Base):
    APP_ENV = "test"
    TESTING = True
    SECRET_KEY = TEST_SECRET_KEY
    JWT_SECRET_KEY = TEST_JWT_SECRET_KEY
    PII_ENCRYPTION_KEY = TEST_PII_ENCRYPTION_KEY
    PII_HMAC_KEY = TEST_PII_HMAC_KEY
    AUDIT_CHAIN_KEY = TEST_AUDIT_CHAIN_KEY  # auditchain slice
    AUDIT_CHECKPOINT_FILE = None  # tests point it at a temporary file
    SQLALCHEMY_DATABASE_URI = env("TEST_DATABASE_URL")  # conftest fills in a temporary SQLite file when unset
    # An impossible broker: an unmocked enqueue fails loudly (GOV.UK Notify's trick). Tests call tasks directly.
    CELERY_BROKER_URL = "redis://invalid.invalid:1/0"
    WTF_CSRF_ENABLED = False  # the browser tests run with CSRF on
    RATELIMIT_ENABLED = True
    RATELIMIT_STORAGE_URI = "memory://"
    WECHAT_API_BASE = "http://fake-wechat.invalid/"  # conftest points it at the in-process fake


PLACEHOLDER = "CHANGE-ME"  # deploy slice (issue 21): the value deploy/env.example gives every secret


class Production(Base):
    APP_ENV = "production"
    WECHAT_APPID = env("WECHAT_APPID")
    WECHAT_SECRET = env("WECHAT_SECRET")
    WECHAT_PUSH_TOKEN = env("WECHAT_PUSH_TOKEN")
    WECHAT_PUSH_AES_KEY = env("WECHAT_PUSH_AES_KEY")
    WECHAT_PUSH_REQUIRE_AES = env_bool("WECHAT_PUSH_REQUIRE_AES", True)
    WECHAT_PUSH_MAX_AGE = int(env("WECHAT_PUSH_MAX_AGE", "300"))
    SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", True)
    FORCE_HTTPS = env_bool("FORCE_HTTPS", True)
    DB_STATEMENT_TIMEOUT_MS = env_int("DB_STATEMENT_TIMEOUT_MS", 8000)  # issue 21: every request ends within 10 s

    REQUIRED = (
        "SECRET_KEY",
        "WECHAT_APPID",
        "WECHAT_SECRET",
        "WECHAT_PUSH_TOKEN",
        "WECHAT_PUSH_AES_KEY",
        "UPLOAD_DIR",
        "EXPORT_DIR",  # exports slice (issue 12): shared storage the workers write and every web process reads
        "JWT_SECRET_KEY",
        "PII_ENCRYPTION_KEY",
        "PII_HMAC_KEY",
        "SQLALCHEMY_DATABASE_URI",
        "CELERY_BROKER_URL",
        "REDIS_URL",
        "AUDIT_CHAIN_KEY",
    )

    @classmethod
    def _refuse_development_values(cls):
        """tokens slice (issue 10): the WeChat settings must be real, and no secret may be a repository default or
        serve two purposes."""
        if cls.WECHAT_APPID == DEMO_WECHAT_APPID:
            raise RuntimeError("Production refuses the demo WECHAT_APPID; set the mini program's real appid")
        if not cls.WECHAT_API_BASE.startswith("https://"):
            raise RuntimeError("WECHAT_API_BASE must be an https:// address")
        aes = cls.WECHAT_PUSH_AES_KEY
        if len(aes) != 43 or len(decode_key("WECHAT_PUSH_AES_KEY", aes.replace("+", "-").replace("/", "_"))) != 32:
            raise RuntimeError("WECHAT_PUSH_AES_KEY must be the 43-character EncodingAESKey")
        defaults = {value.rstrip("=") for value in development_secrets()}
        seen = {}
        for name in SECRET_SETTINGS:
            value = getattr(cls, name, None)
            if not value:
                continue
            if value.rstrip("=") in defaults:
                raise RuntimeError(f"{name} equals a development default in the repository; generate a new secret")
            if value.rstrip("=") in seen:
                raise RuntimeError(f"{name} must differ from {seen[value.rstrip('=')]}: one secret per purpose")
            seen[value.rstrip("=")] = name

    @classmethod
    def validate(cls):
        # deploy slice (issue 21): no setting may still hold deploy/*.example's placeholder
        unfilled = sorted(n for n in dir(cls) if n.isupper() and PLACEHOLDER in str(getattr(cls, n) or ""))
        if unfilled:
            raise RuntimeError(f"Production refuses the example's placeholder {PLACEHOLDER} in: {', '.join(unfilled)}")
        optional = ("PII_ENCRYPTION_KEY", "PII_HMAC_KEY") if has_versioned_keys(cls) else ()  # issue 15: PII_KEYS
        missing = [name for name in cls.REQUIRED if not getattr(cls, name) and name not in optional]
        if missing:
            raise RuntimeError(f"Production configuration is missing: {', '.join(missing)}")
        if cls.SQLALCHEMY_DATABASE_URI.startswith("sqlite"):
            raise RuntimeError("Production refuses SQLite; set DATABASE_URL to PostgreSQL")
        if cls.BENCHMARK_ENDPOINTS:  # bench slice (issue 12)
            raise RuntimeError("Production refuses BENCHMARK_ENDPOINTS: the baselines are for benchmark servers only")
        if cls.RATELIMIT_STORAGE_URI.startswith("memory"):
            raise RuntimeError("Production needs shared rate-limit storage; set RATELIMIT_STORAGE_URI to Redis")
        if "127.0.0.1:8001" in cls.WECHAT_API_BASE or "fake" in cls.WECHAT_API_BASE:
            raise RuntimeError("Production refuses the fake WeChat server; set WECHAT_API_BASE")
        for name in ("SECRET_KEY", "JWT_SECRET_KEY"):
            if len(getattr(cls, name)) < 32:
                raise RuntimeError(f"{name} must be at least 32 characters (256 bits)")
        cls._refuse_development_values()
        super().validate()  # the PII keys: 32 bytes each, and different
        refuse_default_keys(cls, development_secrets())  # issue 15: no repository key in any key version
        # auditchain slice (issue 10)
        if len(cls.AUDIT_CHAIN_KEY) < 32 or cls.AUDIT_CHAIN_KEY in (DEV_AUDIT_CHAIN_KEY, TEST_AUDIT_CHAIN_KEY):
            raise RuntimeError("AUDIT_CHAIN_KEY must be a secret of at least 32 characters, not a development default")
        if not (cls.AUDIT_CHECKPOINT_FILE or cls.AUDIT_CHECKPOINT_SYSLOG):
            raise RuntimeError("Production needs an audit checkpoint sink (AUDIT_CHECKPOINT_FILE or _SYSLOG)")


CONFIGS = {"development": Development, "test": Test, "production": Production}


def get_config(name=None):
    """Return the configuration class for APP_ENV (or `name`), freshly reading the environment."""
    name = (name or env("APP_ENV", "development")).lower()
    if name not in CONFIGS:
        raise RuntimeError(f"Unknown APP_ENV {name!r}; expected one of {', '.join(CONFIGS)}")
    return CONFIGS[name]
