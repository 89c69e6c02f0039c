"""Benchmark: subtree-scoped keyset lists over a large registry (quality.md P5). Prints ratios, asserts nothing.

    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/veterans_bench \
        .venv/bin/python bench/registry_lists.py --units 5000 --veterans 1000000

Builds (once; reuses an existing bench database) a 5-level tree of ~--units units and --veterans rows with
encrypted-looking columns, then times, through the app's own query code:
  page 1 unscoped (a province actor), a subtree-scoped page 1 (a county actor), keyset pages at depth, and OFFSET
  at the same depth for comparison. Reports medians of --repeat runs and the ratios P5 names.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("APP_ENV", "development")


def build(app, units, veterans):
    from sqlalchemy import func, select, text

    from backend.extensions import db
    from backend.veterans.models import Veteran

    if db.session.scalar(select(func.count()).select_from(Veteran)) >= veterans:
        return
    print(f"building {units} units and {veterans} veterans ...", flush=True)
    fan = max(2, round((units / 1 - 1) ** 0.25))  # province > city > county > station > grid
    engine = db.engine
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM veteran_history"))
        conn.execute(text("DELETE FROM veteran"))
        conn.execute(text("DELETE FROM org_unit WHERE name LIKE 'bench-%' AND depth = 4"))
        for depth in (3, 2, 1, 0):
            conn.execute(text("DELETE FROM org_unit WHERE name LIKE 'bench-%' AND depth = :d"), {"d": depth})
        next_id = [conn.execute(text("SELECT COALESCE(MAX(id), 0) FROM org_unit")).scalar() + 1]
        rows, levels = [], ["province", "city", "county", "station", "grid"]

        def add(parent_path, depth, parent_id):
            uid = next_id[0]
            next_id[0] += 1
            path = f"{parent_path}{uid}/"
            rows.append(
                {
                    "id": uid,
                    "parent_id": parent_id,
                    "level": levels[depth],
                    "name": f"bench-{uid}",
                    "path": path,
                    "depth": depth,
                }
            )
            if depth < 4:
                for _ in range(fan):
                    add(path, depth + 1, uid)

        add("/", 0, None)
        conn.execute(
            text(
                "INSERT INTO org_unit (id, parent_id, level, name, path, depth, created_at) "
                "VALUES (:id, :parent_id, :level, :name, :path, :depth, now())"
            ),
            rows,
        )
        grids = [r for r in rows if r["level"] == "grid"]
        stations = {r["id"]: r for r in rows if r["level"] == "station"}
        batch = []
        for i in range(veterans):
            grid = grids[i % len(grids)]
            batch.append(
                {
                    "name": f"v{i}",
                    "enc": "x" * 80,
                    "hmac": f"{i:064d}",
                    "gender": "M",
                    "station": grid["parent_id"],
                    "grid": grid["id"],
                }
            )
            if len(batch) == 10_000:
                _insert(conn, batch)
                batch = []
        if batch:
            _insert(conn, batch)
        conn.execute(text("ANALYZE"))
    assert stations
    print(f"built: {len(rows)} units, {veterans} veterans", flush=True)


def _insert(conn, batch):
    from sqlalchemy import text

    conn.execute(
        text(
            "INSERT INTO veteran (name, id_number_enc, id_number_hmac, gender, birth_date, station_id, grid_id, "
            "unit_id, party_member, status, created_at, updated_at, version_id) VALUES (:name, :enc, :hmac, "
            ":gender, '1980-01-01', :station, :grid, :grid, false, 'active', now(), now(), 1)"
        ),
        batch,
    )


def timed(fn, repeat):
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--units", type=int, default=5000)
    parser.add_argument("--veterans", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()

    from sqlalchemy import select, text

    from backend import create_app
    from backend.extensions import db
    from backend.orgs.models import OrgUnit
    from backend.veterans import queries
    from backend.veterans.models import Veteran

    app = create_app()
    with app.app_context():
        if not db.engine.url.drivername.startswith("postgresql"):
            sys.exit("run against PostgreSQL (DATABASE_URL)")
        from flask_migrate import upgrade

        upgrade()
        build(app, args.units, args.veterans)

        class Actor:
            def __init__(self, unit):
                self.org_unit, self.org_unit_id, self.scope_path = unit, unit.id, unit.path

            def can(self, permission):
                return True

        # The tree that holds the veterans (an older bench tree may remain, empty).
        sample = db.session.scalar(text("SELECT o.path FROM veteran v JOIN org_unit o ON o.id = v.unit_id LIMIT 1"))
        root_id, _, county_id = (int(x) for x in sample.strip("/").split("/")[:3])
        root, county = db.session.get(OrgUnit, root_id), db.session.get(OrgUnit, county_id)
        province, local = Actor(root), Actor(county)
        f = queries.VeteranFilter()
        total = db.session.scalar(text("SELECT count(*) FROM veteran"))
        depth_id = db.session.scalar(
            text("SELECT id FROM veteran ORDER BY id DESC OFFSET :n LIMIT 1"), {"n": int(total * 0.9)}
        )
        mid_offset = int(total * 0.5)

        page1 = timed(lambda: queries.list_veterans(actor=province, filters=f), args.repeat)
        scoped1 = timed(lambda: queries.list_veterans(actor=local, filters=f), args.repeat)
        deep = timed(lambda: queries.list_veterans(actor=province, filters=f, after=depth_id), args.repeat)
        mid_id = db.session.scalar(text("SELECT id FROM veteran ORDER BY id DESC OFFSET :n LIMIT 1"), {"n": mid_offset})
        keyset_mid = timed(lambda: queries.list_veterans(actor=province, filters=f, after=mid_id), args.repeat)
        offset_mid = timed(
            lambda: db.session.scalars(select(Veteran).order_by(Veteran.id.desc()).offset(mid_offset).limit(50)).all(),
            max(3, args.repeat // 4),
        )
        count = timed(lambda: queries.estimate_count(actor=local, filters=f), args.repeat)
        db.session.rollback()

    print(f"\nrows: {total}; medians of {args.repeat} runs (ms)")
    print(f"  page 1, province scope       {page1 * 1000:8.2f}")
    print(f"  page 1, county subtree       {scoped1 * 1000:8.2f}   ratio to page 1: {scoped1 / page1:5.2f}  (P5: <= 2)")
    print(f"  keyset page at depth 90%     {deep * 1000:8.2f}   ratio to page 1: {deep / page1:5.2f}  (P5: <= 1.5)")
    print(f"  keyset page at 50%           {keyset_mid * 1000:8.2f}")
    print(
        f"  OFFSET page at 50%           {offset_mid * 1000:8.2f}   "
        f"keyset/OFFSET: {keyset_mid / offset_mid:6.3f}  (P5: <= 0.1)"
    )
    print(f"  capped count, county         {count * 1000:8.2f}")


if __name__ == "__main__":
    main()
