"""Benchmark: subtree-scoped keyset lists over a large registry (quality.md P5). Prints ratios, asserts nothing.

    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/veterans_h3 \\
        .venv/bin/python bench/registry_lists.py --units 5000 --veterans 1000000

Builds its own data in the target database (it empties veteran and registration there: never point it at data you
keep): a 5-level tree of ~--units units (8 cities of 585 units at 5,000), then --veterans rows twice, once with ids
uniform over the units and once clustered unit by unit (a station-by-station import), each with one registration
per veteran for the current year. For each id order it times, through the app's own query code, page 1 and a deep
page (90% into the scope) of the registry list for a grid, a station, a county, a city and the province, the review
queue's 待审核 tab for the same scopes, and keyset against OFFSET at 500k. Medians of --repeat runs; every ratio is
against the unscoped (province) page 1 of the same list, which P5 wants within 2x.
"""

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("APP_ENV", "development")

LEVELS = ["province", "city", "county", "station", "grid"]


def build_tree(conn, units):
    """The bench tree (reused when present): returns its root path."""
    from sqlalchemy import text

    root = conn.execute(text("SELECT path FROM org_unit WHERE name = 'bench-root'")).scalar()
    if root:
        return root
    fan = max(2, round((units - 1) ** 0.25))
    next_id = [conn.execute(text("SELECT COALESCE(MAX(id), 0) FROM org_unit")).scalar() + 1]
    rows = []

    def add(parent_path, depth, parent_id):
        uid = next_id[0]
        next_id[0] += 1
        path = f"{parent_path}{uid}/"
        name = "bench-root" if depth == 0 else f"bench-{uid}"
        rows.append({"id": uid, "parent_id": parent_id, "level": LEVELS[depth], "name": name, "path": path, "d": depth})
        if depth < 4:
            for _ in range(fan):
                add(path, depth + 1, uid)

    add("/", 0, None)
    conn.execute(
        text(
            "INSERT INTO org_unit (id, parent_id, level, name, path, depth, created_at) "
            "VALUES (:id, :parent_id, :level, :name, :path, :d, now())"
        ),
        rows,
    )
    conn.execute(text("SELECT setval(pg_get_serial_sequence('org_unit', 'id'), (SELECT MAX(id) FROM org_unit))"))
    print(f"tree: {len(rows)} units, fan {fan}", flush=True)
    return rows[0]["path"]


def fill(conn, root, veterans, clustered):
    """--veterans rows over the tree's stations (1 in 5) and grids (4 in 5), ids uniform or clustered by unit."""
    from sqlalchemy import text

    conn.execute(text("TRUNCATE veteran, veteran_history, registration RESTART IDENTITY CASCADE"))
    conn.execute(
        text(
            "CREATE TEMP TABLE bench_leaf ON COMMIT DROP AS SELECT row_number() OVER (ORDER BY o.path) - 1 AS k, "
            "o.id AS unit_id, CASE WHEN o.level = 'grid' THEN o.parent_id ELSE o.id END AS station_id, "
            "CASE WHEN o.level = 'grid' THEN o.id END AS grid_id, o.path FROM org_unit o "
            "WHERE o.path LIKE :root || '%' AND o.level IN ('station', 'grid')"
        ),
        {"root": root},
    )
    leaves = conn.execute(text("SELECT count(*) FROM bench_leaf")).scalar()
    order = "l.path, g" if clustered else "md5(g::text)"
    conn.execute(
        text(
            "INSERT INTO veteran (name, id_number_enc, id_number_hmac, gender, birth_date, station_id, grid_id, "
            "unit_id, unit_path, party_member, status, created_at, updated_at, version_id) "
            "SELECT '老兵' || g, repeat('x', 80), lpad(g::text, 64, '0'), 'M', '1980-01-01', l.station_id, "
            "l.grid_id, l.unit_id, l.path, false, CASE WHEN g % 97 = 0 THEN 'deceased' ELSE 'active' END, "
            "now(), now(), 1 FROM generate_series(0, :n - 1) g JOIN bench_leaf l ON l.k = g % :leaves "
            f"ORDER BY {order}"
        ),
        {"n": veterans, "leaves": leaves},
    )
    # One registration a veteran this year: ~20% waiting review, submitted at random times over 60 days.
    conn.execute(
        text(
            "INSERT INTO registration (veteran_id, unit_id, year, status, form_version, channel, return_reasons, "
            "flagged, submitted_at, first_submitted_at, created_at, updated_at, version_id) "
            "SELECT v.id, v.unit_id, extract(year FROM now())::int, "
            "(ARRAY['submitted','approved','approved','approved','returned','draft'])"
            "[1 + (hashtext(v.id::text) & 1023) % 6], "
            "1, 'online', '{}', false, now() - (hashtext(v.id::text || 's') & 65535) * interval '80 seconds', "
            "now() - interval '70 days', now() - interval '70 days', now(), 1 FROM veteran v ORDER BY v.id"
        )
    )


def timed(fn, repeat):
    fn()  # warm
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def interleaved(cases, repeat, reset):
    """Median seconds per case, timed round-robin (one run of every case per round, in a shuffled order) so load drifts
    and position hit all alike; `reset` (untimed) before each run gives every run a fresh session, as a request has."""
    samples = {name: [] for name in cases}
    for fn in cases.values():
        fn()  # warm
    shuffler = random.Random(20261126)
    for _ in range(repeat):
        names = list(cases)
        shuffler.shuffle(names)
        for name in names:
            fn = cases[name]
            reset()
            start = time.perf_counter()
            fn()
            samples[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in samples.items()}


class Actor:
    def __init__(self, unit):
        self.org_unit, self.org_unit_id, self.scope_path = unit, unit.id, unit.path

    def can(self, permission):
        return True


def scopes(db, root):
    """A grid, a station, a county, a city and the province of the bench tree (the first of each, by path)."""
    from sqlalchemy import select

    from backend.orgs.models import OrgUnit

    out = {}
    for level in LEVELS:
        unit = db.session.scalars(
            select(OrgUnit).where(OrgUnit.path.startswith(root), OrgUnit.level == level).order_by(OrgUnit.path)
        ).first()
        out[level] = Actor(unit)
    return out


def measure(db, root, repeat, label):
    from sqlalchemy import func, select, text

    from backend.registration import queries as reg_queries
    from backend.veterans import queries
    from backend.veterans.models import Veteran

    f = queries.VeteranFilter()
    actors = scopes(db, root)
    year = db.session.scalar(text("SELECT extract(year FROM now())::int"))
    qf = reg_queries.QueueFilter(year=year)
    cases = {
        "base": lambda: queries.list_veterans(actor=actors["province"], filters=f),
        "qbase": lambda: reg_queries.review_queue(actor=actors["province"], filters=qf),
    }
    rows = {}
    for level in ("grid", "station", "county", "city", "province"):
        actor = actors[level]
        in_scope = queries.path_range(actor.scope_path)
        n = rows[level] = db.session.scalar(select(func.count()).select_from(Veteran).where(*in_scope))
        deep_id = db.session.scalar(
            select(Veteran.id).where(*in_scope).order_by(Veteran.unit_path, Veteran.id).offset(int(n * 0.9)).limit(1)
        )
        deceased = queries.VeteranFilter(status="deceased")
        cases[f"{level} page1"] = lambda a=actor: queries.list_veterans(actor=a, filters=f)
        cases[f"{level} deep"] = lambda a=actor, d=deep_id: queries.list_veterans(actor=a, filters=f, after=d)
        cases[f"{level} status"] = lambda a=actor, s=deceased: queries.list_veterans(actor=a, filters=s)
        cases[f"{level} queue"] = lambda a=actor: reg_queries.review_queue(actor=a, filters=qf)
    t = interleaved(cases, repeat, reset=lambda: (db.session.rollback(), db.session.expunge_all()))
    base, qbase = t["base"], t["qbase"]
    print(
        f"\n[{label}] unscoped page 1: registry list {base * 1000:.2f} ms, review queue 待审核 {qbase * 1000:.2f} ms; "
        "ratios to those (P5: scoped <= 2, deep <= 1.5)"
    )
    for level, n in rows.items():
        page1, deep, status, queue = (t[f"{level} {k}"] for k in ("page1", "deep", "status", "queue"))
        print(
            f"  {level:8} rows {n:>8}  page 1 {page1 / base:5.2f}  deep 90% {deep / base:5.2f}"
            f"  status filter {status / base:5.2f}  review queue {queue / qbase:5.2f}"
        )
    province = actors["province"]
    mid = int(db.session.scalar(select(func.count()).select_from(Veteran)) * 0.5)
    mid_id = db.session.scalar(select(Veteran.id).order_by(Veteran.unit_path, Veteran.id).offset(mid).limit(1))
    keyset = timed(lambda: queries.list_veterans(actor=province, filters=f, after=mid_id), repeat)
    offset = timed(
        lambda: db.session.scalars(select(Veteran).order_by(Veteran.unit_path, Veteran.id).offset(mid).limit(50)).all(),
        max(3, repeat // 4),
    )
    print(
        f"  keyset at {mid}: {keyset * 1000:.2f} ms, OFFSET {offset * 1000:.2f} ms, "
        f"keyset/OFFSET {keyset / offset:.3f} (P5: <= 0.1)"
    )
    count = timed(lambda: queries.estimate_count(actor=province, filters=f), repeat)
    print(f"  capped count at province {count * 1000:.2f} ms")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--units", type=int, default=5000)
    parser.add_argument("--veterans", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--order", choices=("both", "uniform", "clustered"), default="both")
    args = parser.parse_args()

    from sqlalchemy import text

    from backend import create_app
    from backend.extensions import db

    app = create_app()
    with app.app_context():
        if not db.engine.url.drivername.startswith("postgresql"):
            sys.exit("run against PostgreSQL (DATABASE_URL)")
        from flask_migrate import upgrade

        upgrade()
        orders = ("uniform", "clustered") if args.order == "both" else (args.order,)
        for order in orders:
            started = time.perf_counter()
            with db.engine.begin() as conn:
                root = build_tree(conn, args.units)
                fill(conn, root, args.veterans, clustered=order == "clustered")
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("VACUUM ANALYZE veteran, registration"))  # what autovacuum does after a bulk load
            print(f"built {args.veterans} veterans, ids {order}, in {time.perf_counter() - started:.0f} s", flush=True)
            measure(db, root, args.repeat, f"ids {order}")
            db.session.rollback()


if __name__ == "__main__":
    main()
