"""The production deployment files (issue 21): compose.yaml, the Dockerfile, deploy/*.example and deploy/nginx.conf.

Docker is not needed: compose.yaml is read as YAML and checked against the code it starts; the example environments
are loaded into a fresh interpreter the way compose passes them, where Production must see every setting it requires
and refuse every placeholder, and accept the same files once the placeholders are replaced.
"""

import base64
import importlib.util
import json
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from sqlalchemy.engine import make_url

from backend import uploads
from backend.pension import returns
from backend.veterans import importer
from config.settings import PLACEHOLDER, QueueNames

pytestmark = pytest.mark.no_db
ROOT = Path(__file__).resolve().parent.parent.parent
APP_SERVICES = ("migrate", "web", "worker", "beat")
# The env_file compose.yaml reads -> the committed example it is copied from.
EXAMPLES = {
    "deploy/app.env": "deploy/env.example",
    "deploy/db.env": "deploy/db.env.example",
    "deploy/migrate.env": "deploy/migrate.env.example",
}


@pytest.fixture(scope="module")
def compose():
    return yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))["services"]


def read_env(path):
    """KEY=VALUE lines as compose reads an env_file (no quotes, no interpolation); comments and blanks skipped."""
    pairs = {}
    for line in (ROOT / path).read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, value = line.partition("=")
            pairs[name.strip()] = value
    return pairs


def service_env(service):
    """The environment compose gives `service`: its env_files (their examples) in order, then `environment`."""
    env = {}
    for path in service.get("env_file", []):
        env.update(read_env(EXAMPLES[path]))
    env.update({k: str(v) for k, v in (service.get("environment") or {}).items()})
    return env


def test_every_service_of_a_pilot_county_is_there(compose):
    assert set(compose) >= {"postgres", "redis", "migrate", "web", "worker", "beat"}
    assert compose["postgres"]["image"].split(":")[1].startswith("15")
    assert compose["redis"]["image"].split(":")[1].startswith("7")
    mounts = compose["postgres"]["volumes"]
    assert "./deploy/postgres-init:/docker-entrypoint-initdb.d:ro" in mounts
    assert os.access(ROOT / "deploy/postgres-init/10-roles.sh", os.X_OK)
    for name in APP_SERVICES:
        assert compose[name]["build"] == "." and compose[name]["environment"]["APP_ENV"] == "production"


def _spec(module):
    return importlib.util.find_spec(module) is not None


def test_commands_start_real_modules_and_files(compose):
    web = compose["web"]["command"]
    assert web[:3] == ["gunicorn", "-c", "config/gunicorn.py"] and (ROOT / web[2]).is_file()
    module, _, attribute = web[3].partition(":")
    assert (ROOT / f"{module}.py").is_file() and re.search(rf"^{attribute}\b.*=", (ROOT / "wsgi.py").read_text(), re.M)
    worker, beat = compose["worker"]["command"], compose["beat"]["command"]
    assert worker[:4] == ["celery", "-A", "backend.worker", "worker"] and _spec("backend.worker")
    assert worker[worker.index("-Q") + 1].split(",") == QueueNames.all()
    assert beat == ["celery", "-A", "backend.worker", "beat"]
    assert compose["migrate"]["command"] == ["flask", "--app", "backend", "db", "upgrade"] and _spec("backend")
    assert compose["migrate"]["restart"] == "no"
    for name in ("web", "worker", "beat"):
        assert compose[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"


def test_beat_runs_exactly_once(compose):
    assert compose["beat"]["deploy"]["replicas"] == 1
    assert "scale" not in compose["beat"]
    others = [
        name
        for name, s in compose.items()
        if name != "beat" and ("beat" in s.get("command", []) or "-B" in s.get("command", []))
    ]
    assert others == []


def test_the_owner_url_reaches_the_migrate_job_only(compose):
    assert "deploy/migrate.env" in compose["migrate"]["env_file"]
    for name in ("web", "worker", "beat"):
        assert "MIGRATION_DATABASE_URL" not in service_env(compose[name])
    assert "MIGRATION_DATABASE_URL" in service_env(compose["migrate"])
    # the database host never receives the app's keys
    assert not {"SECRET_KEY", "PII_ENCRYPTION_KEY", "AUDIT_CHAIN_KEY"} & set(service_env(compose["postgres"]))


def test_statement_timeout_on_the_web_only(compose):
    assert compose["web"]["environment"]["DB_STATEMENT_TIMEOUT_MS"] == "8000"
    for name in ("worker", "beat", "migrate"):
        assert "DB_STATEMENT_TIMEOUT_MS" not in service_env(compose[name])


def test_every_env_file_has_an_example_and_no_secret_enters_the_image_or_git(compose):
    for service in compose.values():
        for path in service.get("env_file", []):
            assert path in EXAMPLES and (ROOT / EXAMPLES[path]).is_file()
    assert "deploy/*.env" in (ROOT / ".dockerignore").read_text().splitlines()
    assert "deploy/*.env" in (ROOT / ".gitignore").read_text().splitlines()


def test_dockerfile_builds_the_repository():
    text = (ROOT / "Dockerfile").read_text()
    assert text.splitlines()[1:2] == ["FROM python:3.11-slim"] or "\nFROM python:3.11-slim\n" in text
    assert "pip install -r requirements.txt" in text
    assert "libpango-1.0-0" in text and "fonts-noto-cjk" in text
    assert re.search(r"^USER \w+", text, re.M)  # not root


def test_database_urls_match_the_roles_the_init_script_creates():
    db, app, migrate = (read_env(EXAMPLES[p]) for p in ("deploy/db.env", "deploy/app.env", "deploy/migrate.env"))
    app_url, owner_url = make_url(app["DATABASE_URL"]), make_url(migrate["MIGRATION_DATABASE_URL"])
    assert (app_url.username, app_url.password) == (db["VETERANS_APP"], db["VETERANS_APP_PASSWORD"])
    assert (owner_url.username, owner_url.password) == (db["VETERANS_OWNER"], db["VETERANS_OWNER_PASSWORD"])
    assert app_url.database == owner_url.database == db["VETERANS_DB"]
    assert migrate["APP_DATABASE_ROLE"] == db["VETERANS_APP"]
    assert all(
        PLACEHOLDER in db[name] for name in ("POSTGRES_PASSWORD", "VETERANS_OWNER_PASSWORD", "VETERANS_APP_PASSWORD")
    )


# Run in a fresh interpreter: the configuration classes read the environment when config.settings is imported.
PROBE = """
import json, os, sys
sys.path.insert(0, ".")
out = []
for env in json.load(sys.stdin):
    for name in [m for m in sys.modules if m == "config" or m.startswith("config.")]:
        del sys.modules[name]
    os.environ.clear()
    os.environ.update(env)
    from config.settings import get_config
    cls = get_config()
    try:
        cls.validate()
        error = None
    except RuntimeError as exc:
        error = str(exc)
    out.append({"env": cls.APP_ENV, "missing": [n for n in cls.REQUIRED if not getattr(cls, n)], "error": error})
print(json.dumps(out))
"""


def probe(envs):
    base = {"PATH": os.environ.get("PATH", "")}
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        input=json.dumps([{**base, **env} for env in envs]),
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        check=True,
    )
    return json.loads(result.stdout.splitlines()[-1])


def real_value(name, value):
    """What an operator would put in place of the placeholder of `name`."""
    if "://" in value:
        return re.sub(rf"{PLACEHOLDER}[\w-]*", secrets.token_urlsafe(16), value)
    if name in ("PII_ENCRYPTION_KEY", "PII_HMAC_KEY"):
        return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
    if name == "WECHAT_PUSH_AES_KEY":
        return base64.b64encode(secrets.token_bytes(32)).decode().rstrip("=")
    if name == "WECHAT_APPID":
        return "wx" + secrets.token_hex(8)
    return secrets.token_urlsafe(48)


def test_production_sees_every_required_setting_and_refuses_each_placeholder(compose):
    for name in APP_SERVICES:
        example = service_env(compose[name])
        placeholders = sorted(k for k, v in example.items() if PLACEHOLDER in v)
        filled = {k: real_value(k, v) if k in placeholders else v for k, v in example.items()}
        runs = probe([example, filled] + [{**filled, key: example[key]} for key in placeholders])
        assert {run["env"] for run in runs} == {"production"}
        as_shipped, as_filled, one_left = runs[0], runs[1], runs[2:]
        assert as_shipped["missing"] == [], f"{name}: the example lacks {as_shipped['missing']}"
        assert as_shipped["error"] and PLACEHOLDER in as_shipped["error"]
        assert as_filled["error"] is None, f"{name}: the filled-in example is refused: {as_filled['error']}"
        assert placeholders and all(run["error"] for run in one_left), f"{name}: a placeholder was accepted"


def test_every_secret_setting_is_a_placeholder_in_the_example():
    from config.settings import SECRET_SETTINGS

    app = read_env("deploy/env.example")
    assert all(PLACEHOLDER in app[name] for name in SECRET_SETTINGS)


# --- deploy/nginx.conf -------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def nginx():
    return (ROOT / "deploy/nginx.conf").read_text(encoding="utf-8")


def _server_443(text):
    return text[text.index("listen 443") :]


def _size_k(value):
    return int(value.removesuffix("k")) * 1024 if value.endswith("k") else int(value.removesuffix("m")) * 1024 * 1024


def test_nginx_body_limit_is_the_apps_upload_limit(nginx):
    limits = re.findall(r"^\s*client_max_body_size (\w+);", _server_443(nginx), re.M)
    # the attachment views raise Flask's limit to MAX_BYTES + 64 KiB (e.g. miniprogram_api/registration/routes.py)
    assert _size_k(limits[0]) == uploads.MAX_BYTES + 64 * 1024
    larger = [_size_k(v) for v in limits[1:] if _size_k(v) > _size_k(limits[0])]
    # only the two 10 MB uploads (the veteran import and a bank's return file) go beyond it
    assert larger == [importer.MAX_BYTES + 64 * 1024, returns.MAX_BYTES + 64 * 1024]


def test_nginx_timeouts_end_app_requests_within_10_seconds(nginx):
    server = _server_443(nginx)
    head, _, _ = server.partition("location ")
    for directive in ("proxy_read_timeout", "proxy_send_timeout", "proxy_connect_timeout"):
        assert int(re.search(rf"{directive} (\d+)s;", head).group(1)) <= 10
    longer = []
    for match in re.finditer(r"^[ ]*location ([^\n]+) \{$(.*?)^[ ]*\}$", server, re.M | re.S):
        read = re.search(r"proxy_read_timeout (\d+)s;", match.group(2))
        if read and int(read.group(1)) > 10:
            longer.append(match.group(1).strip())
    assert longer == ['~ "^/exports/[1-9][0-9]{0,17}/download$"']


def test_nginx_tls_hsts_and_the_client_address(nginx):
    assert re.search(r"ssl_protocols TLSv1\.2 TLSv1\.3;", nginx)
    assert re.search(r'add_header Strict-Transport-Security "max-age=\d{8,}; includeSubDomains" always;', nginx)
    assert "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;" in nginx
    assert "proxy_set_header X-Forwarded-Proto $scheme;" in nginx
    assert read_env("deploy/env.example")["TRUSTED_PROXY_COUNT"] == "1"
    assert "return 301 https://" in nginx


def test_nginx_routes_are_the_apps_routes(nginx, portal_app, api_app):
    api_rules = {"/api" + rule.rule for rule in api_app.url_map.iter_rules()}
    assert "/api/v1/wechat/events" in api_rules and "location = /api/v1/wechat/events {" in nginx
    download = next(r for r in portal_app.url_map.iter_rules() if r.endpoint == "exports.download")
    pattern = re.search(r'location ~ "([^"]+)"', nginx).group(1)
    assert re.match(pattern, download.rule.replace("<id:job_id>", "123456789012345678"))
    assert not re.match(pattern, download.rule.replace("<id:job_id>", "0"))
    assert "location /static/ {" in nginx and portal_app.static_url_path == "/static"
