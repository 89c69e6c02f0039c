"""What bench/run.py measures: the targets, the credentials they need, and the ratios of issue 12's goals."""

import re
import statistics
from dataclasses import dataclass, field
from pathlib import Path

LOGINS = Path(__file__).resolve().parent / ".logins"
CSRF_RE = re.compile(r'id="csrf_token"[^>]*value="([^"]+)"')
WORKER_TIMEOUT = 30.0  # gunicorn --timeout: "under the worker timeout by a wide margin"


@dataclass(frozen=True)
class Target:
    name: str
    path: str
    auth: str | None = None  # None, "token" (a bound account's access token), "staff:<level>" (a portal session)


BASELINES = [
    Target("B_json", "/api/v1/_bench/json"),
    Target("B_db1", "/api/v1/_bench/db1"),
    Target("B_raw1", "/api/v1/_bench/raw1"),
    Target("B_noop_auth", "/api/v1/_bench/noop-auth", "token"),
    Target("B_celery", "/api/v1/_bench/celery"),
]
PHONE = [
    Target("GET /me", "/api/v1/me", "token"),
    Target("GET /registrations/current", "/api/v1/registrations/current", "token"),
    Target("GET /inbox", "/api/v1/inbox", "token"),
]
PAGES = {
    "veteran list": "/veterans/",
    "registration queue": "/registration/",
    "figures": "/registration/figures",
    "coverage": "/veterans/coverage",
    "travel list": "/travel/",
}
PORTAL = [
    Target(f"{page} @{level}", path, f"staff:{level}")
    for page, path in PAGES.items()
    for level in ("province", "station")
]
ALL = BASELINES + PHONE + PORTAL

# (numerator, denominator, goal, kind): "rps" ratios want >= goal; "p50" ratios (latency) want <= goal.
RATIOS = [
    ("B_db1", "B_raw1", 0.6, "rps"),
    ("B_noop_auth", "B_json", 0.7, "rps"),
    ("B_celery", "B_json", None, "rps"),
    *((t.name, "B_db1", 0.5, "rps") for t in PHONE),
    *((f"{page} @province", f"{page} @station", 3.0, "p50") for page in PAGES),
]


@dataclass
class Sample:
    """One measurement of a target: requests per second and latency percentiles in milliseconds."""

    rps: float
    p50: float
    p95: float
    p99: float
    requests: int = 0
    errors: int = 0


@dataclass
class Results:
    samples: dict = field(default_factory=dict)  # target name -> [Sample], one per round
    statuses: dict = field(default_factory=dict)  # target name -> first status code seen

    def add(self, name, sample):
        self.samples.setdefault(name, []).append(sample)

    def median(self, name, attr):
        return statistics.median(getattr(s, attr) for s in self.samples[name])


def read_logins(path=LOGINS):
    """{level: (username, password)} from bench/.logins (written by bench/seed.py)."""
    logins = {}
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if line.strip():
            level, username, password = line.split()[:3]
            logins[level] = (username, password)
    return logins


def login_form(login_page_html, username, password):
    """The form fields of a portal login (the CSRF token comes from the login page when CSRF is on)."""
    match = CSRF_RE.search(login_page_html)
    data = {"username": username, "password": password}
    if match:
        data["csrf_token"] = match.group(1)
    return data


def mint_token(api_app):
    """An access token for a seeded account bound to an active veteran (miniprogram_api.security.issue_tokens)."""
    from sqlalchemy import select

    from backend.accounts.models import WechatAccount
    from backend.extensions import db
    from backend.veterans.models import Veteran
    from miniprogram_api.security import issue_tokens

    with api_app.app_context():
        account = db.session.scalars(
            select(WechatAccount)
            .join(Veteran, Veteran.id == WechatAccount.veteran_id)
            .where(Veteran.status == "active")
            .order_by(WechatAccount.id)
            .limit(1)
        ).first()
        if account is None:
            raise SystemExit("bench: no bound account of an active veteran; run bench/seed.py first")
        token = issue_tokens(account)["access_token"]
        db.session.remove()
    return token


def report(results, out=print, title="Targets", verdicts=True, ratios=None):
    """Print median and p95 per target and every ratio line; returns the ratio lines. Without `verdicts` (the smoke
    run: a few requests on tiny data) the lines carry no ok / below-goal judgement."""
    out(f"\n{title} (median over rounds; latency in ms)")
    out(f"  {'target':<34}{'req/s':>10}{'p50':>10}{'p95':>10}{'p99':>10}{'errors':>8}  status")
    for name, samples in results.samples.items():
        errors = sum(s.errors for s in samples)
        status = results.statuses.get(name, "")
        out(
            f"  {name:<34}{results.median(name, 'rps'):>10.1f}{results.median(name, 'p50'):>10.2f}"
            f"{results.median(name, 'p95'):>10.2f}{results.median(name, 'p99'):>10.2f}{errors:>8}  {status}"
        )
    out("\nRatios (issue 12 goals; issue 21's capabilities)")
    lines = []
    for num, den, goal, kind in RATIOS if ratios is None else ratios:
        if num not in results.samples or den not in results.samples:
            line = f"  RATIO {num} / {den}: not measured"
        elif kind == "rps":
            value = results.median(num, "rps") / max(results.median(den, "rps"), 1e-9)
            verdict = "" if goal is None or not verdicts else (" ok" if value >= goal else " BELOW GOAL")
            goal_text = "no goal" if goal is None else f"goal >= {goal}"
            line = f"  RATIO {num} / {den} (req/s): {value:.2f}  ({goal_text}){verdict}"
        else:
            value = results.median(num, "p50") / max(results.median(den, "p50"), 1e-9)
            verdict = "" if not verdicts else (" ok" if value <= goal else " ABOVE GOAL")
            line = f"  RATIO {num} / {den} (p50 latency): {value:.2f}  (goal <= {goal}){verdict}"
        lines.append(line)
        out(line)
    for page in PAGES:
        name = f"{page} @province"
        if name in results.samples:
            p95 = results.median(name, "p95") / 1000
            share = p95 / WORKER_TIMEOUT
            line = f"  TIMEOUT {name}: p95 {p95:.3f} s = {share:.1%} of the {WORKER_TIMEOUT:.0f} s worker timeout"
            lines.append(line)
            out(line)
    return lines
