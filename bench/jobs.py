"""Benchmark: the scheduled jobs at scale (issue 12, quality.md part 2). Prints ratios, asserts nothing.

    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/veterans_h4 \\
        .venv/bin/python bench/jobs.py --veterans 1000000

Seeds (once; an existing seed of the same size is reused) ~--units units and --veterans active veterans clustered by
grid, as an import leaves them, with INSERT … SELECT generate_series, and --trips departed trips (64% past their
planned return). Then runs each job through its own code with an explicit `now`, "everything to mark" and again
"nothing to do", and prints each wall time as a ratio to a quarter of CELERY_TASK_TIME_LIMIT (the goal: < 1).
Job outputs (registrations, reminders, inbox messages, trip events) are truncated before each scenario.
"""

import argparse
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("APP_ENV", "development")

PREFIX = "jobs-bench-"


def _columns(conn, table):
    from sqlalchemy import text

    return set(
        conn.execute(
            text("SELECT column_name FROM information_schema.columns WHERE table_name = :t"), {"t": table}
        ).scalars()
    )


def seed(units, veterans, trips):
    from sqlalchemy import text

    from backend import pii
    from backend.extensions import db

    with db.engine.begin() as conn:
        have = conn.execute(
            text("SELECT count(*) FROM veteran v JOIN org_unit o ON o.id = v.unit_id WHERE o.name LIKE :p"),
            {"p": f"{PREFIX}%"},
        ).scalar()
        have_trips = conn.execute(text("SELECT count(*) FROM trip")).scalar()
        if have == veterans and have_trips == trips:
            return
        print(f"seeding {units} units, {veterans} veterans, {trips} trips ...", flush=True)
        started = time.perf_counter()
        for table in ("trip", "travel_consent", "registration", "registration_reminder", "inbox_message"):
            conn.execute(text(f"TRUNCATE {table} CASCADE"))
        conn.execute(text("TRUNCATE veteran CASCADE"))
        conn.execute(text("DELETE FROM org_unit WHERE name LIKE :p"), {"p": f"{PREFIX}%"})
        fan = max(2, round((units - 1) ** 0.25))  # province > city > county > station > grid
        next_id = [conn.execute(text("SELECT COALESCE(MAX(id), 0) FROM org_unit")).scalar() + 1]
        rows, levels = [], ["province", "city", "county", "station", "grid"]

        def add(parent_path, depth, parent_id):
            uid = next_id[0]
            next_id[0] += 1
            path = f"{parent_path}{uid}/"
            rows.append({"id": uid, "parent_id": parent_id, "level": levels[depth], "name": f"{PREFIX}{uid}"})
            rows[-1].update(path=path, depth=depth)
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
        has_path = "unit_path" in _columns(conn, "veteran")  # the lists slice's column, when present
        conn.execute(
            text(
                "CREATE TEMP TABLE bench_grid AS SELECT row_number() OVER (ORDER BY id) - 1 AS k, id, parent_id, path "
                "FROM org_unit WHERE level = 'grid' AND name LIKE :p"
            ),
            {"p": f"{PREFIX}%"},
        )
        grids = conn.execute(text("SELECT count(*) FROM bench_grid")).scalar()
        path_column, path_value = (", unit_path", ", g.path") if has_path else ("", "")
        conn.execute(
            text(
                "INSERT INTO veteran (name, id_number_enc, id_number_hmac, gender, birth_date, station_id, grid_id, "
                f"unit_id, party_member, status, created_at, updated_at, version_id{path_column}) "
                "SELECT 'v' || i, repeat('x', 80), lpad(i::text, 64, '0'), 'M', DATE '1980-01-01', g.parent_id, g.id, "
                f"g.id, false, 'active', now(), now(), 1{path_value} "
                "FROM generate_series(0, :n - 1) AS i JOIN bench_grid g ON g.k = (i::bigint * :g) / :n ORDER BY i"
            ),
            {"n": veterans, "g": grids},
        )
        sealed = pii.encrypt_json({"destination": "JP", "planned_return": "2027-06-01"}, context="travel.trip")
        conn.execute(
            text(
                "INSERT INTO travel_consent (veteran_id, notice_version, channel, consented_at) "
                "SELECT id, '2026-1', 'online', now() FROM veteran ORDER BY id LIMIT :t"
            ),
            {"t": trips},
        )
        conn.execute(
            text(
                "INSERT INTO trip (veteran_id, unit_id, consent_id, status, overdue, overdue_reminded, sealed, "
                "document_type, channel, created_at, updated_at, return_due_on) "
                "SELECT c.veteran_id, v.unit_id, c.id, 'departed', false, false, :s, 'passport', 'online', now(), "
                "now(), "
                "DATE '2027-06-01' + CASE WHEN c.id % 100 < 64 THEN -(c.id % 30)::int ELSE 1 + (c.id % 30)::int END "
                "FROM travel_consent c JOIN veteran v ON v.id = c.veteran_id"
            ),
            {"s": sealed},
        )
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))
    print(f"seeded in {time.perf_counter() - started:.0f} s", flush=True)


def reset():
    from sqlalchemy import text

    from backend.extensions import db

    with db.engine.begin() as conn:
        conn.execute(text("TRUNCATE registration, registration_reminder, inbox_message, trip_event CASCADE"))
        conn.execute(text("UPDATE trip SET overdue = false, overdue_reminded = false WHERE overdue"))
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE trip"))


def seed_drafts(share):
    """A draft for `share` of the veterans (what the overdue job marks besides the missing rows)."""
    from sqlalchemy import text

    from backend.extensions import db

    with db.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO registration (veteran_id, unit_id, year, status, form_version, channel, return_reasons, "
                "flagged, created_at, updated_at, version_id) SELECT id, unit_id, 2027, 'draft', 1, 'online', '{}', "
                "false, now(), now(), 1 FROM veteran WHERE id % 100 < :pct"
            ),
            {"pct": int(share * 100)},
        )
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE registration"))


def run(label, fn, quarter):
    from backend.extensions import db

    started = time.perf_counter()
    count = fn()
    wall = time.perf_counter() - started
    db.session.remove()
    print(f"  {label:<44} {count:>9} rows {wall:9.2f} s   ratio to limit/4: {wall / quarter:6.3f}", flush=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--units", type=int, default=500)
    parser.add_argument("--veterans", type=int, default=20_000)
    parser.add_argument("--trips", type=int, default=None, help="default: veterans / 20")
    args = parser.parse_args()
    trips = args.veterans // 20 if args.trips is None else args.trips

    from backend import create_app
    from backend.extensions import db
    from backend.registration import jobs
    from backend.travel import jobs as travel_jobs

    app = create_app()
    with app.app_context():
        if not db.engine.url.drivername.startswith("postgresql"):
            sys.exit("run against PostgreSQL (DATABASE_URL)")
        from flask_migrate import upgrade

        upgrade()
        seed(args.units, args.veterans, trips)
        quarter = app.config["CELERY_TASK_TIME_LIMIT"] / 4

        def at(text):
            return datetime.fromisoformat(text).replace(tzinfo=UTC)

        print(f"\n{args.veterans} veterans, {trips} trips; CELERY_TASK_TIME_LIMIT/4 = {quarter:.0f} s")
        reset()
        seed_drafts(0.05)
        run("registration.mark_overdue, window open", lambda: jobs.mark_overdue(now=at("2027-02-01 02:00")), quarter)
        run("registration.mark_overdue, everything", lambda: jobs.mark_overdue(now=at("2027-04-02 02:00")), quarter)
        run("registration.mark_overdue, nothing to do", lambda: jobs.mark_overdue(now=at("2027-04-02 03:00")), quarter)
        reset()
        run("registration.send_reminders, everything", lambda: jobs.send_reminders(now=at("2027-01-02 02:00")), quarter)
        run(
            "registration.send_reminders, nothing to do",
            lambda: jobs.send_reminders(now=at("2027-01-02 03:00")),
            quarter,
        )
        run(
            "registration.send_reminders, window closed",
            lambda: jobs.send_reminders(now=at("2027-05-02 03:00")),
            quarter,
        )
        run("travel.mark_overdue, nothing due", lambda: travel_jobs.mark_overdue(now=at("2027-05-01 02:00")), quarter)
        run("travel.mark_overdue, everything", lambda: travel_jobs.mark_overdue(now=at("2027-06-02 02:00")), quarter)
        run("travel.mark_overdue, nothing to do", lambda: travel_jobs.mark_overdue(now=at("2027-06-02 03:00")), quarter)


if __name__ == "__main__":
    main()
