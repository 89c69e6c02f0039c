"""Fill a migrated database with a realistic province for benchmarks (issue 12). Deterministic: a fixed --seed.

    createdb veterans_bench; DATABASE_URL=postgresql+psycopg://veterans_app@127.0.0.1:5432/veterans_bench \\
      MIGRATION_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/veterans_bench \\
      APP_ENV=development .venv/bin/flask --app backend db upgrade
    MIGRATION_DATABASE_URL=... .venv/bin/python bench/seed.py                 # 1,000,000 veterans, ~5,000 units
    MIGRATION_DATABASE_URL=... .venv/bin/python bench/seed.py --veterans 2000 --reset   # a tiny run

What it writes: a 5-level tree (province > cities > counties > stations > grids, with path and depth), veterans
station by station (ids clustered by station, as an import leaves them) with valid ID numbers, sealed and
HMAC-indexed exactly as backend/veterans/service.py writes them, bound WeChat accounts, this year's registrations in
a realistic status mix with sealed content, trips with sealed details, inbox messages, and one staff account per
level (province, a city, a county, a station) created through backend/staff/service.py, whose passwords go to
bench/.logins (git-ignored). PostgreSQL is loaded with COPY in chunks; SQLite (tests) with executemany.
It connects as the owner (MIGRATION_DATABASE_URL, else DATABASE_URL) and uses the PII keys of APP_ENV's
configuration (development by default), which the benchmarked server must share. On PostgreSQL it then fills the
capability tables through bench/seed_caps.py (issue 21; proportions there; `--no-capabilities` skips them).
"""

import argparse
import json
import math
import os
import random
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("APP_ENV", "development")

from sqlalchemy import MetaData, func, select, text  # noqa: E402

from bench import seed_data  # noqa: E402

LOGINS = Path(__file__).resolve().parent / ".logins"
STAFF_LEVELS = ("province", "city", "county", "station")


class UnknownColumn(SystemExit):
    pass


class Writer:
    """Writes row dicts to a table: COPY in chunks on PostgreSQL, executemany elsewhere. The columns are reflected at
    run time, so columns added by later migrations are filled when a generator knows them and refused otherwise."""

    def __init__(self, engine, chunk=50_000, out=print):
        self.engine, self.chunk, self.out = engine, chunk, out
        self.pg = engine.dialect.name == "postgresql"
        self.meta = MetaData()
        self.meta.reflect(bind=engine)

    def columns(self, table, sample):
        """The columns to write: those the table has and the generator fills. :raises UnknownColumn:"""
        cols = self.meta.tables[table].columns
        missing = [c.name for c in cols if not c.nullable and c.server_default is None and c.name not in sample]
        if missing:
            raise UnknownColumn(
                f"bench/seed.py: {table}.{', '.join(missing)} is NOT NULL without a default and no generator fills "
                f"it; add it to the {table} rows in bench/seed_data.py"
            )
        return [c.name for c in cols if c.name in sample]

    def load(self, table, rows, total=None):
        started, written, names = time.monotonic(), 0, None
        batch = []
        for row in rows:
            if names is None:
                names = self.columns(table, row)
            batch.append(row)
            if len(batch) >= self.chunk:
                written += self._flush(table, names, batch)
                batch = []
                if written != total:
                    self._progress(table, written, total, started)
        if batch:
            written += self._flush(table, names, batch)
        self._progress(table, written, total, started, done=True)
        return written

    def _progress(self, table, written, total, started, done=False):
        of = f"/{total:,}" if total else ""
        end = " done" if done else ""
        self.out(f"  {table:<18}{written:>10,}{of} rows  {time.monotonic() - started:7.1f} s{end}")

    def _flush(self, table, names, batch):
        if self.pg:
            raw = self.engine.raw_connection()
            try:
                cursor = raw.cursor()
                quoted = ", ".join(f'"{n}"' for n in names)
                with cursor.copy(f'COPY "{table}" ({quoted}) FROM STDIN') as copy:
                    for row in batch:
                        copy.write_row([_plain(row.get(n)) for n in names])
                raw.commit()
            finally:
                raw.close()
        else:
            with self.engine.begin() as conn:
                conn.execute(self.meta.tables[table].insert(), [{n: row.get(n) for n in names} for row in batch])
        return len(batch)

    def reset(self):
        names = [t.name for t in reversed(self.meta.sorted_tables) if t.name != "alembic_version"]
        with self.engine.begin() as conn:
            if self.pg:
                conn.execute(
                    text(f"TRUNCATE {', '.join(chr(34) + n + chr(34) for n in names)} RESTART IDENTITY CASCADE")
                )
            else:
                for name in names:
                    conn.execute(self.meta.tables[name].delete())

    def finish(self, tables):
        """Move each id sequence past the ids written, and refresh the planner's statistics."""
        if not self.pg:
            return
        with self.engine.begin() as conn:
            for table in tables:
                conn.execute(
                    text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM \"{table}\"))")
                )
            conn.execute(text("ANALYZE"))


def _plain(value):
    return json.dumps(value, ensure_ascii=False) if isinstance(value, dict | list) else value


def _inbox_rows(accounts):
    for n, person in enumerate(accounts):
        for k in range(2):
            yield {
                "id": 2 * n + k + 1,
                "veteran_id": person.id,
                "kind": "system",
                "title": "年度确认登记提醒" if k else "欢迎使用退役军人服务小程序",
                "body": "请在规定时间内完成本年度确认登记。" if k else "您已成功绑定退役军人身份。",
                "link": "/pages/registration/index" if k else None,
                "created_at": seed_data.BASE_TIME,
                "read_at": seed_data.BASE_TIME if not k else None,
            }


def _staff(levels, logins, out):
    """One center reviewer per level (no second factor due for business roles) through the staff service; returns
    the login lines. A security administrator is bootstrapped directly (as the demo loader does) to create them."""
    from backend.db import transaction
    from backend.extensions import db
    from backend.orgs.models import LEVEL_LABELS
    from backend.staff import service as staff_service
    from backend.staff.models import Staff, StaffRole
    from backend.staff.passwords import _hash, generate_password

    with transaction():
        admin = Staff(
            username="bench-secadmin",
            full_name="基准安全管理员",
            org_unit_id=levels["province"][0].id,
            password_hash=_hash(generate_password()),
            must_change_password=False,
            role_rows=[StaffRole(role="security_admin")],
        )
        db.session.add(admin)
    station = levels["station"][0]
    chain = {u.id: u for level in levels.values() for u in level}
    county = chain[station.parent_id]
    units = {"province": levels["province"][0], "city": chain[county.parent_id], "county": county, "station": station}
    lines = []
    for level in STAFF_LEVELS:
        unit = units[level]
        staff, password = staff_service.create_staff(
            actor=admin,
            username=f"bench-{level}",
            full_name=f"基准测试{LEVEL_LABELS[level]}审核员",
            org_unit_id=unit.id,
            roles=["center_reviewer"],
        )
        with transaction():
            staff.must_change_password = False
        lines.append(f"{level} {staff.username} {password} {unit.id} {unit.path}")
    out(f"  staff              {len(lines)} accounts (center_reviewer) -> {logins}")
    return lines


def seed(
    app,
    *,
    veterans,
    units,
    accounts=None,
    trips=None,
    seed=20261126,
    reset=False,
    logins=LOGINS,
    out=print,
    capabilities=True,
):
    """Fill the database of `app` (already migrated). Returns a dict of counts and the seconds taken. With
    `capabilities` (PostgreSQL only; skipped elsewhere) bench/seed_caps.py then adds bookings, pension, notifications,
    ratings, contacts, assistance, onboarding and archives (issue 21); their row counts are under "capabilities".

    :raises SystemExit: the database holds units (without `reset`), or a table gained a NOT NULL column no
        generator fills.
    """
    from backend.extensions import db
    from backend.orgs.models import OrgUnit

    accounts = min(veterans, veterans // 10 if accounts is None else accounts)
    trips = max(1, veterans // 20) if trips is None else trips
    started = time.monotonic()
    rng = random.Random(seed)
    with app.app_context():
        writer = Writer(db.engine, out=out)
        if reset:
            writer.reset()
        elif db.session.scalar(select(func.count()).select_from(OrgUnit)):
            raise SystemExit("bench/seed.py: the database already holds units; pass --reset to empty it first")
        db.session.remove()
        levels = seed_data.build_tree(units)
        out(f"seeding {veterans:,} veterans over {sum(map(len, levels.values())):,} units (seed {seed})")
        writer.load("org_unit", (u.row() for level in levels.values() for u in level))
        maker = seed_data.VeteranMaker(rng, levels)
        people = []

        def veteran_rows():
            sizes = seed_data.station_sizes(rng, levels["station"], veterans)
            for station, size in zip(levels["station"], sizes, strict=True):
                for _ in range(size):
                    row, person = maker.make(station)
                    people.append(person)
                    yield row

        writer.load("veteran", veteran_rows(), total=veterans)
        bound = sorted(rng.sample(range(len(people)), accounts))
        bound_people = [people[i] for i in bound]
        writer.load("wechat_account", (seed_data.account_row(p, n + 1) for n, p in enumerate(bound_people)), accounts)
        writer.load("inbox_message", _inbox_rows(bound_people), 2 * accounts)
        year = date.today().year
        regs = (seed_data.registration_row(rng, p, n + 1, year) for n, p in enumerate(people))
        writer.load("registration", (r for r in regs if r), total=None)
        travellers = rng.sample(people, min(len(people), math.ceil(trips / 1.5)))
        writer.load("travel_consent", (seed_data.consent_row(p, n + 1) for n, p in enumerate(travellers)))
        today = date.today()
        trip_rows = (
            seed_data.trip_row(rng, travellers[n % len(travellers)], n + 1, n % len(travellers) + 1, today)
            for n in range(trips)
        )
        writer.load("trip", trip_rows, total=trips)
        lines = _staff(levels, logins, out)
        db.session.remove()
        writer.finish(
            ["org_unit", "veteran", "wechat_account", "inbox_message", "registration", "travel_consent", "trip"]
        )
        from backend.figures.rollup import rollup  # the figures pages read the rolled-up counts (backend/figures)

        out(f"  unit_stat {rollup():>18,} rows (figures rolled up)")
    Path(logins).write_text("\n".join(lines) + "\n", encoding="utf-8")
    Path(logins).chmod(0o600)
    caps = None
    if capabilities and writer.pg:  # issue 21: the capability tables (set-based SQL, PostgreSQL only)
        from bench.seed_caps import seed_capabilities

        caps = seed_capabilities(app, seed=seed, out=out)
    seconds = time.monotonic() - started
    out(f"seeded in {seconds:.1f} s")
    stats = {"veterans": veterans, "units": sum(map(len, levels.values())), "accounts": accounts, "seconds": seconds}
    return stats | ({"capabilities": caps} if caps is not None else {})


def make_app(database_url):
    from backend import create_app
    from config.settings import get_config

    config = type("BenchSeed", (get_config(),), {"SQLALCHEMY_DATABASE_URI": database_url})
    return create_app(config)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--veterans", type=int, default=1_000_000)
    parser.add_argument("--units", type=int, default=5_000)
    parser.add_argument(
        "--accounts", type=int, default=None, help="bound WeChat accounts (default veterans / 10: 100,000 at 1M)"
    )
    parser.add_argument("--trips", type=int, default=None, help="trips (default veterans / 20)")
    parser.add_argument("--seed", type=int, default=20261126)
    parser.add_argument("--reset", action="store_true", help="empty every table first")
    parser.add_argument(
        "--capabilities",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also fill the capability tables (bench/seed_caps.py, PostgreSQL only; default on)",
    )
    parser.add_argument(
        "--database-url", default=os.environ.get("MIGRATION_DATABASE_URL") or os.environ.get("DATABASE_URL")
    )
    args = parser.parse_args(argv)
    if not args.database_url:
        parser.error("set MIGRATION_DATABASE_URL or DATABASE_URL (or --database-url) to a migrated database")
    seed(
        make_app(args.database_url),
        veterans=args.veterans,
        units=args.units,
        accounts=args.accounts,
        trips=args.trips,
        seed=args.seed,
        reset=args.reset,
        capabilities=args.capabilities,
    )


if __name__ == "__main__":
    main()
