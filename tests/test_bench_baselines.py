"""The benchmark harness (issue 12): the baselines exist only behind BENCHMARK_ENDPOINTS, the seeder fills a tiny
province as production writes it, and bench/run.py's smoke mode reaches every target and prints every ratio.

The seeded tests use a database of their own (PostgreSQL: <test db>_bench, loaded by COPY; SQLite: a separate file,
loaded by executemany), because the seeder commits. No timing is asserted anywhere.
"""

from types import SimpleNamespace

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from backend import create_app as create_backend
from backend.extensions import db
from bench import run as bench_run
from bench import seed as bench_seed
from bench import targets as bench_targets
from tests import conftest as harness
from tests.conftest import dispose_engines, make_config, migrate_database

BASELINE_PATHS = ["/v1/_bench/json", "/v1/_bench/db1", "/v1/_bench/raw1", "/v1/_bench/noop-auth", "/v1/_bench/celery"]


def _bench_database_url():
    if not harness.is_postgres():
        return harness._sqlite_url("bench.db")
    parsed = make_url(harness.test_database_url())
    name = f"{parsed.database}_bench"
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if not conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).scalar():
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return parsed.set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="module")
def bench(fake_wechat_server, tmp_path_factory):
    """A tiny seeded province and the two web apps on it with the baselines on (Celery eager: no broker)."""
    from admin_portal import create_app as create_portal
    from miniprogram_api import create_app as create_api

    owner_url = _bench_database_url()
    app_url = migrate_database(owner_url)
    logins = tmp_path_factory.mktemp("bench") / "logins"
    seeder = create_backend(make_config(owner_url))
    printed = []
    stats = bench_seed.seed(seeder, veterans=300, units=40, seed=7, logins=logins, out=printed.append)
    config = make_config(
        app_url, BENCHMARK_ENDPOINTS=True, CELERY_BROKER_URL=None, WECHAT_API_BASE=fake_wechat_server.base
    )
    apps = SimpleNamespace(seeder=seeder, portal=create_portal(config), api=create_api(config))
    yield SimpleNamespace(apps=apps, logins=logins, stats=stats, printed=printed)
    dispose_engines(apps.seeder, apps.portal, apps.api)


def test_baselines_are_absent_when_the_setting_is_off(api_app):
    client = api_app.test_client()
    for path in BASELINE_PATHS:
        assert client.get(path).status_code == 404, path
    spec = client.get("/openapi.json").get_json()
    assert not [p for p in spec["paths"] if "_bench" in p]


@pytest.mark.no_db
def test_baselines_answer_when_the_setting_is_on(bench):
    client = bench.apps.api.test_client()
    answer = client.get("/v1/_bench/json")
    assert answer.status_code == 200 and 90 <= len(answer.data) <= 110
    orm = client.get("/v1/_bench/db1?id=1")
    raw = client.get("/v1/_bench/raw1?id=1")
    assert orm.status_code == raw.status_code == 200
    assert orm.get_json() == raw.get_json() == {"id": 1, "name": "江宁省", "path": "/1/"}
    assert client.get("/v1/_bench/noop-auth").status_code == 401  # the same token check as every phone route
    token = bench_targets.mint_token(bench.apps.api)
    assert client.get("/v1/_bench/noop-auth", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    assert client.get("/v1/_bench/celery").status_code == 200
    spec = client.get("/openapi.json").get_json()
    assert not [p for p in spec["paths"] if "_bench" in p]  # never in the phone's OpenAPI document


@pytest.mark.no_db
def test_the_seeder_fills_a_province_as_production_writes_it(bench):
    from backend.accounts.models import WechatAccount
    from backend.orgs.models import OrgUnit
    from backend.staff.models import Staff
    from backend.veterans.identity import parse_id_number
    from backend.veterans.models import Veteran
    from backend.veterans.service import id_index

    assert bench.stats["veterans"] == 300 and bench.stats["accounts"] == 30
    with bench.apps.seeder.app_context():
        levels = dict(db.session.execute(select(OrgUnit.level, func.count()).group_by(OrgUnit.level)).all())
        assert levels["province"] == 1 and levels["grid"] == 3 * levels["station"]
        for unit in db.session.scalars(select(OrgUnit).where(OrgUnit.level == "grid").limit(5)):
            assert unit.path.endswith(f"/{unit.id}/") and unit.depth == 4
        veterans = db.session.scalars(select(Veteran).order_by(Veteran.id)).all()
        assert len(veterans) == 300
        for veteran in veterans[:50]:  # valid ID numbers, sealed and indexed as the service writes them
            info = parse_id_number(veteran.id_number)
            assert veteran.id_number_hmac == id_index(info.number) and veteran.gender == info.gender
        stations = [v.station_id for v in veterans]
        assert stations == sorted(stations)  # ids clustered by station, as a station-by-station import leaves them
        assert db.session.scalar(select(func.count()).select_from(WechatAccount)) == 30
        statuses = set(db.session.scalars(text("SELECT DISTINCT status FROM registration")))
        assert {"approved", "submitted"} <= statuses
        humans = select(func.count()).select_from(Staff).where(Staff.username.not_like("bench-st-%"))
        assert db.session.scalar(humans) == 5  # 4 levels + the bootstrap admin (station staff: capabilities)
        db.session.remove()
    assert len(bench.logins.read_text().splitlines()) == 4
    assert any("veteran" in line and "300" in line for line in bench.printed)


CAPABILITY_TABLES = (
    "booking_service", "slot", "booking", "pay_profile", "pay_state_event", "pay_amount", "pay_account",
    "payroll_run", "payroll_line", "pay_funding_total", "notification", "delivery", "rating", "care_contact",
    "care_contact_plan", "assistance_case", "assistance_event", "onboarding_case", "onboarding_step", "archive",
    "archive_location", "archive_inspection", "archive_access_log",
)  # fmt: skip


@pytest.mark.no_db
def test_the_seeder_fills_every_capability_validly(bench):
    """Issue 21: bench/seed_caps.py (PostgreSQL only) fills every capability table with rows the services accept."""
    if not harness.is_postgres():
        pytest.skip("bench/seed_caps.py is set-based SQL for PostgreSQL")
    from datetime import timedelta

    from backend import pii
    from backend.bookings.models import BookingService
    from backend.bookings.slots import free_slots
    from backend.pension.accounts import CONTEXT
    from backend.registration.windows import today_cst
    from bench.seed_caps import seed_capabilities

    caps = bench.stats["capabilities"]
    assert {t: caps.get(t, 0) for t in CAPABILITY_TABLES if not caps.get(t)} == {}
    with bench.apps.seeder.app_context():
        one = lambda sql: db.session.execute(text(sql)).scalar()  # noqa: E731
        assert {
            t: one(f'SELECT count(*) FROM "{t}"') for t in CAPABILITY_TABLES if not one(f'SELECT 1 FROM "{t}"')
        } == {}
        assert one("SELECT count(*) FROM slot WHERE booked > capacity") == 0
        held = "SELECT slot_id, count(*) AS n FROM booking WHERE status <> 'cancelled' GROUP BY slot_id"
        mismatch = (
            f"SELECT count(*) FROM slot s LEFT JOIN ({held}) c ON c.slot_id = s.id WHERE s.booked <> COALESCE(c.n, 0)"
        )
        assert one(mismatch) == 0
        unpaid = (
            "NOT EXISTS (SELECT 1 FROM pay_profile p JOIN pay_account a USING (veteran_id) WHERE p.veteran_id = v.id)"
        )
        assert one(f"SELECT count(*) FROM veteran v WHERE v.status = 'active' AND {unpaid}") == 0
        sealed, last4 = db.session.execute(text("SELECT account_enc, account_last4 FROM pay_account LIMIT 1")).one()
        number = pii.decrypt(sealed, context=CONTEXT)
        assert number.isdigit() and number.endswith(last4)
        assert {"completed", "no_show", "cancelled", "booked"} <= set(
            db.session.scalars(text("SELECT status FROM booking"))
        )
        service = db.session.scalars(select(BookingService).order_by(BookingService.id)).first()
        assert free_slots(service, today_cst(), today_cst() + timedelta(days=14))  # the phone's slot list
        db.session.remove()
        with pytest.raises(SystemExit, match="seeded already"):
            seed_capabilities(bench.apps.seeder, out=lambda line: None)
        db.session.remove()


@pytest.mark.no_db
def test_the_seeder_refuses_an_unknown_not_null_column(bench):
    with bench.apps.seeder.app_context():
        writer = bench_seed.Writer(db.engine)
        with pytest.raises(bench_seed.UnknownColumn, match=r"veteran\..*bench/seed_data.py"):
            writer.columns("veteran", {"id": 1})
        db.session.remove()


@pytest.mark.no_db
def test_the_smoke_run_reaches_every_target_and_prints_every_ratio(bench):
    printed = []
    results, lines = bench_run.smoke(bench.apps.portal, bench.apps.api, logins=bench.logins, out=printed.append)
    assert {t.name for t in bench_targets.ALL} == set(results.statuses)
    assert {name: code for name, code in results.statuses.items() if not 200 <= code < 300} == {}
    for num, den, _goal, _kind in bench_targets.RATIOS:
        assert any(line.startswith(f"  RATIO {num} / {den}") and "not measured" not in line for line in lines)


@pytest.mark.no_db
def test_production_refuses_the_baselines(monkeypatch):
    import importlib

    import config.settings as settings
    from tests.test_config import SECRETS, _production

    try:
        with pytest.raises(RuntimeError, match="BENCHMARK_ENDPOINTS"):
            _production(monkeypatch, **SECRETS, BENCHMARK_ENDPOINTS="1").validate()
    finally:
        monkeypatch.undo()
        importlib.reload(settings)
