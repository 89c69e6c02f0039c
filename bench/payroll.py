"""Benchmark: the monthly payroll job at scale (issue 18, part 3). Prints rows/s and peak memory; asserts nothing.

    createdb -h 127.0.0.1 -U postgres veterans_payroll
    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/veterans_payroll \\
        .venv/bin/python bench/payroll.py --veterans 1000000          # and the 100k baseline (--baseline)

Seeds (once; an existing seed of the same sizes is reused) two provinces of ~--units units each with INSERT … SELECT
generate_series: one with --baseline veterans and one with --veterans, every veteran with a pay profile, a start
event, a base amount (central) and an allowance (local), and 95% with a sealed bank account (the other 5% are the
no_account exception). Then computes one run per province, each in a child process of its own (so each peak is the
run's own), through backend/pension/payroll_job.compute, and prints rows, wall time, rows/s, the child's peak RSS
(resource.getrusage ru_maxrss) and tracemalloc's peak of Python allocations, and the ratio peak(N)/peak(baseline):
constant memory means a ratio near 1 whatever N. It TRUNCATEs the pension and veteran tables: give it a database of
its own.
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("APP_ENV", "development")

PREFIX = "payroll-bench-"
MONTH = "2026-03-01"


def _seed_province(conn, name, units, veterans):
    from sqlalchemy import text

    fan = max(2, round((units - 1) ** 0.25))
    next_id = conn.execute(text("SELECT COALESCE(MAX(id), 0) FROM org_unit")).scalar() + 1
    rows, levels, counter = [], ["province", "city", "county", "station", "grid"], [next_id]

    def add(parent_path, depth, parent_id):
        uid = counter[0]
        counter[0] += 1
        path = f"{parent_path}{uid}/"
        rows.append(dict(id=uid, parent_id=parent_id, level=levels[depth], name=f"{name}{uid}", path=path, depth=depth))
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
    conn.execute(text("SELECT setval('org_unit_id_seq', (SELECT max(id) FROM org_unit))"))
    conn.execute(text("DROP TABLE IF EXISTS bench_grid"))
    conn.execute(
        text(
            "CREATE TEMP TABLE bench_grid AS SELECT row_number() OVER (ORDER BY id) - 1 AS k, id, parent_id, path "
            "FROM org_unit WHERE level = 'grid' AND name LIKE :p"
        ),
        {"p": f"{name}%"},
    )
    grids = conn.execute(text("SELECT count(*) FROM bench_grid")).scalar()
    first = conn.execute(text("SELECT COALESCE(MAX(id), 0) FROM veteran")).scalar()
    conn.execute(
        text(
            "INSERT INTO veteran (name, id_number_enc, id_number_hmac, gender, birth_date, station_id, grid_id, "
            "unit_id, party_member, status, created_at, updated_at, version_id, unit_path) "
            "SELECT 'v' || i, repeat('x', 80), :p || lpad(i::text, 40, '0'), 'M', DATE '1980-01-01', g.parent_id, "
            "g.id, g.id, false, 'active', now(), now(), 1, g.path "
            "FROM generate_series(0, :n - 1) AS i JOIN bench_grid g ON g.k = (i::bigint * :g) / :n ORDER BY i"
        ),
        {"n": veterans, "g": grids, "p": name},
    )
    return rows[0]["id"], first


def seed(baseline, veterans, units):
    from sqlalchemy import text

    from backend import pii
    from backend.extensions import db

    with db.engine.begin() as conn:
        roots = (
            conn.execute(
                text("SELECT id FROM org_unit WHERE level = 'province' AND name LIKE :p ORDER BY id"),
                {"p": f"{PREFIX}%"},
            )
            .scalars()
            .all()
        )
        sizes = [
            conn.execute(
                text(
                    "SELECT count(*) FROM pay_profile p JOIN veteran v ON v.id = p.veteran_id "
                    "WHERE v.unit_path LIKE :path"
                ),
                {"path": f"/{r}/%"},
            ).scalar()
            for r in roots
        ]
        if sizes == [baseline, veterans]:
            return roots
        print(f"seeding {baseline} + {veterans} paid veterans ...", flush=True)
        started = time.perf_counter()
        conn.execute(
            text(
                "TRUNCATE payroll_run, pay_funding_total, pay_amount, pay_account, pay_profile, pay_state_event, "
                "pay_adjustment_line, pay_adjustment_batch CASCADE"
            )
        )
        conn.execute(
            text("DELETE FROM veteran WHERE unit_path IN (SELECT path FROM org_unit WHERE name LIKE :p)"),
            {"p": f"{PREFIX}%"},
        )
        conn.execute(text("DELETE FROM staff WHERE username LIKE :p"), {"p": f"{PREFIX}%"})
        conn.execute(text("DELETE FROM org_unit WHERE name LIKE :p"), {"p": f"{PREFIX}%"})
        roots = [_seed_province(conn, f"{PREFIX}a{size}-", units, size)[0] for size in (baseline, veterans)]
        sealed = pii.encrypt("6228480012345678901", context="pay_account.number")
        conn.execute(
            text(
                "INSERT INTO pay_profile (veteran_id, station_id, state, pay_start_on, updated_at, version_id) "
                "SELECT id, station_id, 'active', DATE '2025-01-01', now(), 1 FROM veteran"
            )
        )
        conn.execute(
            text(
                "INSERT INTO pay_state_event (veteran_id, action, effective_on, created_at) "
                "SELECT id, 'start', DATE '2025-01-01', now() FROM veteran"
            )
        )
        conn.execute(
            text(
                "INSERT INTO pay_amount (veteran_id, component, amount_fen, funding, effective_month, created_at) "
                "SELECT id, 'base', 300000 + (id % 50) * 1000, 'central', DATE '2025-01-01', now() - interval '1 day' "
                "FROM veteran UNION ALL "
                "SELECT id, 'allowance', 20000, 'local', DATE '2025-01-01', now() - interval '1 day' FROM veteran"
            )
        )
        conn.execute(
            text(
                "INSERT INTO pay_account (veteran_id, bank, account_enc, account_last4, holder_name, updated_at) "
                "SELECT id, '农商银行', :s, '8901', name, now() FROM veteran WHERE id % 20 <> 0"
            ),
            {"s": sealed},
        )
        conn.execute(
            text(
                "INSERT INTO staff (username, full_name, org_unit_id, password_hash, is_active, failed_logins, "
                "password_changed_at, must_change_password, session_token, created_at, large_text) "
                "VALUES (:u, 'bench', :unit, 'x', true, 0, now(), false, md5(random()::text), now(), false)"
            ),
            {"u": f"{PREFIX}maker", "unit": roots[0]},
        )
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))
    print(f"seeded in {time.perf_counter() - started:.0f} s", flush=True)
    return roots


def one(root, trace):
    """Child process: compute a fresh run of `root`'s subtree for MONTH; print JSON figures."""
    from sqlalchemy import text

    from backend import create_app
    from backend.extensions import db
    from backend.pension import payroll_job

    app = create_app()
    with app.app_context():
        with db.engine.begin() as conn:
            conn.execute(text("DELETE FROM payroll_run WHERE unit_id = :u"), {"u": root})
            maker = conn.execute(text("SELECT id FROM staff WHERE username = :u"), {"u": f"{PREFIX}maker"}).scalar()
            run_id = conn.execute(
                text(
                    "INSERT INTO payroll_run (unit_id, month, number, state, maker_id, total_rows, processed_rows, "
                    "exception_count, total_fen, created_at, updated_at, version_id) "
                    "VALUES (:u, :m, :n, 'queued', :mk, 0, 0, 0, 0, now(), now(), 1) RETURNING id"
                ),
                {"u": root, "m": MONTH, "n": f"bench-{root}-{time.time_ns()}", "mk": maker},
            ).scalar()
        if trace:
            tracemalloc.start()
        started = time.perf_counter()
        payroll_job.compute(run_id)
        wall = time.perf_counter() - started
        traced = tracemalloc.get_traced_memory()[1] if trace else 0
        tracemalloc.stop()
        row = db.session.execute(
            text("SELECT state, processed_rows, total_rows FROM payroll_run WHERE id = :i"), {"i": run_id}
        ).one()
        rss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(
            json.dumps(
                {"state": row.state, "rows": row.processed_rows, "seconds": wall, "rss_kb": rss_kb, "traced": traced}
            )
        )


def measure(root, trace):
    command = [sys.executable, __file__, "--one", str(root)] + (["--tracemalloc"] if trace else [])
    out = subprocess.run(command, capture_output=True, text=True)
    if out.returncode:
        sys.exit(f"bench/payroll.py: the run of unit {root} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--veterans", type=int, default=1_000_000, help="the large run (1M on a real run)")
    parser.add_argument("--baseline", type=int, default=100_000)
    parser.add_argument("--units", type=int, default=500)
    parser.add_argument("--tracemalloc", action="store_true", help="also trace Python allocations (slower)")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        return one(args.one, args.tracemalloc)

    from backend import create_app
    from backend.extensions import db

    app = create_app()
    with app.app_context():
        if not db.engine.url.drivername.startswith("postgresql"):
            sys.exit("run against PostgreSQL (DATABASE_URL)")
        from flask_migrate import upgrade

        upgrade()
        roots = seed(args.baseline, args.veterans, args.units)
        batch = app.config["PENSION_RUN_BATCH"]
    print(f"\npayroll job, PENSION_RUN_BATCH={batch}, month {MONTH[:7]}")
    figures = []
    for root, size in zip(roots, (args.baseline, args.veterans), strict=True):
        f = measure(root, args.tracemalloc)
        figures.append(f)
        traced = f"   tracemalloc peak {f['traced'] / 2**20:7.1f} MiB" if args.tracemalloc else ""
        print(
            f"  {size:>9} veterans: {f['state']:<6} {f['rows']:>9} rows {f['seconds']:8.1f} s "
            f"{f['rows'] / f['seconds']:9.0f} rows/s   peak RSS {f['rss_kb'] / 1024:7.1f} MiB{traced}",
            flush=True,
        )
    base, big = figures
    traced = f"   tracemalloc peak ratio: {big['traced'] / base['traced']:.2f}" if args.tracemalloc else ""
    print(f"  peak RSS ratio {args.veterans}/{args.baseline}: {big['rss_kb'] / base['rss_kb']:.2f}{traced}  (flat: ~1)")


if __name__ == "__main__":
    main()
