"""Fill the capability tables of a bench/seed.py database (issue 21): bookings, pension, notifications, ratings,
contacts, assistance, onboarding and archives, in the proportions below, set-based (INSERT … SELECT) on PostgreSQL.

    MIGRATION_DATABASE_URL=... .venv/bin/python bench/seed_caps.py      # adds them to an existing bench/seed.py run

bench/seed.py calls seed_capabilities() itself (`--no-capabilities` to skip). A second run is refused (the database
already holds booking services). Deterministic: every choice is a hash of row ids and --seed (ciphertexts differ
only by their random nonces); dates are relative to today (CST), as bench/seed.py's are.

Proportions (per 1,000,000 veterans, ~1,200 stations; each figure scales with the veteran count):
- one station staff account per station (`bench-st-<id>`, no usable password): who served, contacted, received;
- services: 3 at every station (档案查阅, 证明开具, 政策咨询), 6 at one station in three (~4 a station), the default
  weekday plan in 60-minute slots of capacity 3–5, slots for the past --history-days (365) and 14 days ahead on
  China's open days (~7.4M slots); bookings on ~4.5% of past slots and 15% of future ones, 1–3 each (~0.6M a year):
  past ones 68% completed, 12% no-show, 20% cancelled (by the veteran or the station), future ones 85% booked;
- pension (bench/seed_pay.py): a pay profile, a start event, a base (central) and an allowance (local) amount and a
  sealed bank account for EVERY active veteran, and --payroll-months (2) confirmed province payroll runs with one
  line per paid veteran (0.3% failed at the bank) and their funding totals; the current month is left to run;
- notifications: 8 staff campaigns, each to a subtree (a city, 3 counties, 4 stations; ~9% of veterans at 1M), with
  a delivery and an inbox entry per recipient: bound veterans 85% sent, 5% failed, 10% skipped (no credit), the
  unbound skipped (not bound); 60% of the entries read;
- (bench/seed_care.py) ratings of 35% of the completed bookings (62% 非常满意 … 3% 非常不满意) and a feedback case per
  bad rating (90% closed); a contact plan per active veteran, contacts of 85% of them in the last 120 days and a
  second, older one for 40%; assistance cases for 1.2% (open and closed states); onboarding cases for 2.5% arrived
  in the last year with their steps; archives for 60% with an intake log row each, one archive room per county with
  its inspections, and requests for 0.2% of the archives with their log rows.
"""

import argparse
import os
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("APP_ENV", "development")

from sqlalchemy import text  # noqa: E402

SERVICES = (  # (name, description, materials, location): catalog.DEFAULT_SERVICES with a room each
    ("档案查阅", "查阅本人退役军人档案材料", "身份证\n退役证", "一楼综合服务窗口"),
    ("证明开具", "开具退役军人相关证明", "身份证\n退役证", "一楼综合服务窗口"),
    ("政策咨询", "优待抚恤、安置就业等政策解答", None, "二楼政策咨询室"),
    ("就业指导", "就业创业指导与岗位推荐", "身份证\n个人简历", "二楼就业服务室"),
    ("帮扶申请", "困难帮扶、临时救助申请", "身份证\n退役证\n困难情况证明材料", "一楼综合服务窗口"),
    ("心理疏导", "一对一心理咨询与疏导", None, "三楼心理咨询室"),
)
SLOT_MINUTES = 60
BOOK_AHEAD = 14


def h(expr, salt):
    """SQL: a deterministic pseudo-random integer in [0, 1000003) from an integer expression and a salt."""
    return f"((abs(hashint8extended(({expr})::bigint, {salt})) % 1000003)::int)"


class Ctx:
    """One connection (temporary tables live on it), the seed, today (CST) and a printer."""

    def __init__(self, conn, seed, out, today=None):
        self.conn, self.seed, self.out = conn, seed, out
        from backend.registration.windows import today_cst

        self.today = today or today_cst()
        self.counts = {}

    def h(self, expr, salt):
        return h(expr, salt + self.seed % 1000)

    def run(self, sql, **params):
        return self.conn.execute(text(sql), params)

    def scalar(self, sql, **params):
        return self.conn.execute(text(sql), params).scalar()

    def step(self, table, sql, **params):
        """Run an INSERT, commit, print and record its row count."""
        started = time.monotonic()
        n = self.conn.execute(text(sql), params).rowcount
        self.conn.commit()
        self.counts[table] = self.counts.get(table, 0) + n
        self.out(f"  {table:<22}{n:>12,} rows {time.monotonic() - started:8.1f} s")
        return n

    def pool(self, context, texts, as_json=False):
        """A SQL array of sealed values (valid ciphertexts for `context`), picked per row by a hash."""
        from backend import pii

        seal = pii.encrypt_json if as_json else pii.encrypt
        return [seal(t, context=context) for t in texts]


def prepare(ctx):
    """Station staff (one each) and the temporary tables the loaders share: stations and active veterans by
    station, numbered from 0 so a hash picks one."""
    ctx.step(
        "staff",
        """INSERT INTO staff (username, full_name, org_unit_id, password_hash, is_active, failed_logins,
               password_changed_at, must_change_password, session_token, created_at, large_text)
           SELECT 'bench-st-' || u.id, '服务站工作人员' || u.id, u.id, '!', true, 0, now(), false,
                  md5('bench-st-' || u.id), now(), false
           FROM org_unit u WHERE u.level = 'station' ORDER BY u.id""",
    )
    ctx.step(
        "staff_role",
        """INSERT INTO staff_role (staff_id, role) SELECT id, 'station_staff' FROM staff
           WHERE username LIKE 'bench-st-%' ORDER BY id""",
    )
    ctx.run(
        """CREATE TEMP TABLE seed_station AS
           SELECT u.id, u.parent_id AS county_id, u.path, s.id AS staff_id,
                  row_number() OVER (ORDER BY u.id) - 1 AS k
           FROM org_unit u JOIN staff s ON s.username = 'bench-st-' || u.id WHERE u.level = 'station'"""
    )
    ctx.run(
        """CREATE TEMP TABLE seed_vet AS
           SELECT v.id, v.station_id, v.name, v.unit_path, v.party_member, v.placement_date, v.grid_worker,
                  row_number() OVER (PARTITION BY v.station_id ORDER BY v.id) - 1 AS k
           FROM veteran v WHERE v.status = 'active'"""
    )
    ctx.run("CREATE INDEX ON seed_vet (station_id, k)")
    ctx.run("CREATE TEMP TABLE seed_vet_n AS SELECT station_id, count(*) AS n FROM seed_vet GROUP BY station_id")
    ctx.run("ANALYZE seed_station; ANALYZE seed_vet; ANALYZE seed_vet_n")
    ctx.conn.commit()


def slot_times(today, history_days):
    """[(starts_at, ends_at)] in UTC of every 60-minute slot of the default plan on the open days between
    today - history_days and today + BOOK_AHEAD, by China's calendar (backend/bookings/calendar.library_open)."""
    from backend.bookings.calendar import library_open
    from backend.bookings.catalog import DEFAULT_PLAN
    from backend.bookings.slots import day_times

    service = type("Plan", (), {"plan": DEFAULT_PLAN, "slot_minutes": SLOT_MINUTES})
    times = []
    day = today - timedelta(days=history_days)
    while day <= today + timedelta(days=BOOK_AHEAD):
        if library_open(day):
            times.extend(day_times(service, day))
        day += timedelta(days=1)
    return times


def bookings(ctx, history_days):
    """Services, their slots and bookings (see the module docstring); slot.booked counts what holds a place."""
    import json

    from backend.bookings.catalog import DEFAULT_PLAN
    from backend.bookings.codes import ALPHABET, LENGTH

    values = ", ".join(f"({n}, :n{n}, :d{n}, :m{n}, :l{n})" for n in range(len(SERVICES)))
    params = {}
    for n, (name, description, materials, location) in enumerate(SERVICES):
        params.update({f"n{n}": name, f"d{n}": description, f"m{n}": materials, f"l{n}": location})
    ctx.step(
        "booking_service",
        f"""INSERT INTO booking_service (station_id, name, description, materials, location, plan, slot_minutes,
               capacity, book_ahead_days, cutoff_minutes, active, created_at, updated_at, version_id)
           SELECT s.id, d.name, d.description, d.materials, d.location, CAST(:plan AS json), {SLOT_MINUTES},
                  3 + {ctx.h("s.id * 8 + d.n", 1)} % 3, {BOOK_AHEAD}, 120, true, now(), now(), 1
           FROM seed_station s CROSS JOIN (VALUES {values}) AS d(n, name, description, materials, location)
           WHERE d.n < 3 OR s.k % 3 = 0 ORDER BY s.id, d.n""",
        plan=json.dumps(DEFAULT_PLAN),
        **params,
    )
    ctx.run("CREATE TEMP TABLE seed_time (starts_at timestamptz, ends_at timestamptz)")
    times = slot_times(ctx.today, history_days)
    ctx.conn.execute(text("INSERT INTO seed_time VALUES (:s, :e)"), [{"s": s, "e": e} for s, e in times])
    ctx.step(
        "slot",
        """INSERT INTO slot (service_id, station_id, starts_at, ends_at, capacity, booked, status)
           SELECT b.id, b.station_id, t.starts_at, t.ends_at, b.capacity, 0, 'open'
           FROM booking_service b CROSS JOIN seed_time t ORDER BY b.id, t.starts_at""",
    )
    # the picks: 1–3 distinct veterans of the slot's station on ~4.5% of past slots and 15% of future ones
    ctx.run(
        f"""CREATE TEMP TABLE seed_pick AS
           SELECT DISTINCT ON (sl.id, v.id) sl.id AS slot_id, sl.service_id, sl.station_id, sl.starts_at, sl.ends_at,
                  v.id AS veteran_id, j, sl.starts_at < now() AS past, {ctx.h("sl.id * 4 + j", 5)} % 100 AS roll
           FROM slot sl
           JOIN seed_vet_n n ON n.station_id = sl.station_id
           CROSS JOIN LATERAL generate_series(1, 1 + {ctx.h("sl.id", 2)} % least(sl.capacity, 3)) AS j
           JOIN seed_vet v ON v.station_id = sl.station_id AND v.k = {ctx.h("sl.id * 4 + j", 3)} % n.n
           WHERE {ctx.h("sl.id", 4)} % 1000 < CASE WHEN sl.starts_at < now() THEN 45 ELSE 150 END"""
    )
    # at most one active booking per (veteran, service): later duplicates were cancelled by the veteran
    ctx.run(
        """CREATE TEMP TABLE seed_bk AS
           SELECT p.*, row_number() OVER (ORDER BY p.slot_id, p.veteran_id) AS n,
                  CASE WHEN p.past THEN CASE WHEN roll < 68 THEN 'completed' WHEN roll < 80 THEN 'no_show'
                                             ELSE 'cancelled' END
                       WHEN roll < 85 AND row_number() OVER (PARTITION BY p.veteran_id, p.service_id, roll < 85
                                                             ORDER BY p.starts_at, p.slot_id) = 1 THEN 'booked'
                       ELSE 'cancelled' END AS status
           FROM seed_pick p"""
    )
    first = ctx.scalar("SELECT COALESCE(max(id), 0) FROM booking")
    staff = "st.staff_id"
    # the check-in code: a bijection of the id onto 25**LENGTH (gcd(48271, 25) = 1), spelled in the alphabet
    number = f"(((b.n + {first}) * 48271 + {ctx.seed % 99991}) % {len(ALPHABET) ** LENGTH})"
    code = " || ".join(
        f"substr('{ALPHABET}', (({number} / {len(ALPHABET) ** i}) % {len(ALPHABET)})::int + 1, 1)"
        for i in range(LENGTH)
    )
    cancel_by = f"CASE WHEN {ctx.h('b.n', 6)} % 100 < 65 THEN 'veteran' ELSE 'station' END"
    ctx.step(
        "booking",
        f"""INSERT INTO booking (id, veteran_id, service_id, slot_id, station_id, starts_at, code, status, channel,
               created_by_id, cancelled_by, cancelled_by_staff_id, cancel_reason, cancelled_at, checked_in_at,
               completed_at, handled_by_id, note, reminded_at, created_at, updated_at, version_id)
           SELECT b.n + {first}, b.veteran_id, b.service_id, b.slot_id, b.station_id, b.starts_at, {code}, b.status,
                  CASE WHEN b.roll % 4 = 3 THEN 'counter' ELSE 'phone' END,
                  CASE WHEN b.roll % 4 = 3 THEN {staff} END,
                  CASE WHEN b.status = 'cancelled' THEN {cancel_by} END,
                  CASE WHEN b.status = 'cancelled' AND {cancel_by} = 'station' THEN {staff} END,
                  CASE WHEN b.status = 'cancelled' THEN
                      CASE WHEN {cancel_by} = 'veteran' THEN '个人原因' ELSE '工作人员临时外出，请改约' END END,
                  CASE WHEN b.status = 'cancelled' THEN
                      least(now(), b.starts_at - make_interval(hours => 3 + {ctx.h("b.n", 7)} % 45)) END,
                  CASE WHEN b.status = 'completed' THEN b.starts_at - interval '5 minutes' END,
                  CASE WHEN b.status = 'completed' THEN b.ends_at END,
                  CASE WHEN b.status = 'completed' THEN {staff} END,
                  CASE WHEN b.status = 'completed' THEN '已办结' END,
                  CASE WHEN b.past AND b.status <> 'cancelled' THEN b.starts_at - interval '1 day' END,
                  least(now() - interval '1 hour',
                        b.starts_at - make_interval(days => 1 + {ctx.h("b.n", 8)} % 10)),
                  CASE WHEN b.status = 'completed' THEN b.ends_at
                       WHEN b.past THEN least(now(), b.starts_at + interval '1 hour') ELSE now() END, 1
           FROM seed_bk b JOIN seed_station st ON st.id = b.station_id ORDER BY b.n""",
    )
    ctx.run("SELECT setval(pg_get_serial_sequence('booking', 'id'), (SELECT max(id) FROM booking))")
    ctx.run(
        """UPDATE slot s SET booked = c.n
           FROM (SELECT slot_id, count(*) AS n FROM booking WHERE status <> 'cancelled' GROUP BY slot_id) c
           WHERE s.id = c.slot_id"""
    )
    ctx.run("DROP TABLE seed_pick; DROP TABLE seed_bk")
    ctx.conn.commit()


CAMPAIGNS = (  # (level, nth unit of that level, kind, title, body)
    ("city", 1, "care", "春节慰问活动通知", "春节将至，{单位}将于近期开展走访慰问，请保持电话畅通。"),
    ("county", 2, "care", "退役军人优待证办理提醒", "尚未办理优待证的退役军人请携带身份证到服务站办理。"),
    ("county", 5, "care", "就业招聘会通知", "本月将举办退役军人专场招聘会，欢迎参加。"),
    ("county", 9, "care", "政策宣讲会通知", "服务站将举办政策宣讲会，介绍最新优抚政策。"),
    ("station", 3, "care", "健康体检通知", "服务站组织免费健康体检，请按时参加。"),
    ("station", 40, "care", "光荣牌发放通知", "请尚未领取光荣牌的家庭到服务站领取。"),
    ("station", 77, "care", "座谈会通知", "服务站将召开退役军人座谈会，听取意见建议。"),
    ("station", 120, "care", "防诈骗提醒", "近期冒充工作人员的诈骗增多，请提高警惕。"),
)


def notifications(ctx):
    """A few staff campaigns, each to a subtree, done: a delivery and an inbox entry per recipient."""
    for n, (level, nth, kind, title, body) in enumerate(CAMPAIGNS):
        unit = ctx.conn.execute(
            text(
                "SELECT id, path FROM org_unit WHERE level = :l ORDER BY id "
                "OFFSET (:nth % GREATEST((SELECT count(*) FROM org_unit WHERE level = :l), 1)) LIMIT 1"
            ),
            {"l": level, "nth": nth},
        ).first()
        if unit is None:
            continue
        sent = ctx.today - timedelta(days=20 + 37 * n)
        started = f"(TIMESTAMPTZ '{sent.isoformat()} 02:00+00')"
        staff = ctx.scalar("SELECT id FROM staff WHERE username LIKE 'bench-%' ORDER BY id LIMIT 1")
        nid = ctx.scalar(
            f"""INSERT INTO notification (kind, source, title, body, link, variables, sender_unit_id, created_by_id,
                   audience, status, scheduled_at, approval_needed, follow_up, recipient_count, materialized,
                   created_at, started_at, finished_at, updated_at, version_id)
               VALUES (:kind, 'staff', :title, :body, NULL, CAST(:vars AS json), :unit, :staff,
                   CAST(:aud AS json), 'done', NULL, false, false, 0, true, {started} - interval '1 hour', {started},
                   {started} + interval '40 minutes', {started} + interval '40 minutes', 1) RETURNING id""",
            kind=kind,
            title=title,
            body=body,
            vars='{"单位": "服务站"}',
            unit=unit.id,
            staff=staff,
            aud=f'{{"unit_id": {unit.id}}}',
        )
        bound = "EXISTS (SELECT 1 FROM wechat_account w WHERE w.veteran_id = v.id)"
        roll = ctx.h("v.id + " + str(n * 1000003), 20) + " % 100"
        ctx.step(
            "delivery",
            f"""INSERT INTO delivery (notification_id, veteran_id, status, skip_reason, attempts, msgid, error_code,
                   error_message, result, result_at, sent_at, created_at, updated_at)
               SELECT :nid, v.id, d.status, d.skip,
                      CASE WHEN d.status IN ('sent', 'failed') THEN 1 ELSE 0 END,
                      CASE WHEN d.status = 'sent' THEN (3000000000000 + v.id * 16 + {n})::text END,
                      CASE WHEN d.status = 'failed' THEN 43101 END,
                      CASE WHEN d.status = 'failed' THEN 'user refuse to accept the msg' END,
                      CASE WHEN d.status = 'sent' THEN 'success' END,
                      CASE WHEN d.status = 'sent' THEN {started} + interval '30 minutes' END,
                      CASE WHEN d.status = 'sent' THEN {started} + interval '20 minutes' END,
                      {started}, {started} + interval '30 minutes'
               FROM veteran v CROSS JOIN LATERAL (SELECT
                   CASE WHEN NOT {bound} THEN 'skipped' WHEN {roll} < 85 THEN 'sent'
                        WHEN {roll} < 90 THEN 'failed' ELSE 'skipped' END AS status,
                   CASE WHEN NOT {bound} THEN 'not_bound' WHEN {roll} >= 90 THEN 'no_credit' END AS skip) d
               WHERE v.unit_path LIKE :path AND v.status IN ('active', 'suspended') ORDER BY v.id""",
            nid=nid,
            path=unit.path + "%",
        )
        ctx.step(
            "inbox_message",
            f"""INSERT INTO inbox_message (veteran_id, kind, title, body, link, created_at, read_at, notification_id,
                   requires_ack)
               SELECT d.veteran_id, :kind, :title, replace(:body, '{{单位}}', '服务站'), NULL, {started},
                      CASE WHEN {ctx.h("d.veteran_id", 21 + n)} % 100 < 60
                           THEN {started} + make_interval(hours => 1 + {ctx.h("d.veteran_id", 30)} % 72) END,
                      :nid, false
               FROM delivery d WHERE d.notification_id = :nid ORDER BY d.id""",
            nid=nid,
            kind=kind,
            title=title,
            body=body,
        )
        ctx.run(
            """UPDATE notification SET recipient_count = (SELECT count(*) FROM delivery WHERE notification_id = :n),
                   materialized_to = (SELECT max(veteran_id) FROM delivery WHERE notification_id = :n) WHERE id = :n""",
            n=nid,
        )
        ctx.counts["notification"] = ctx.counts.get("notification", 0) + 1
        ctx.conn.commit()


def seed_capabilities(app, *, seed=20261126, history_days=365, payroll_months=2, out=print):
    """Add the capability rows to the bench/seed.py database of `app`. Returns {table: rows written}.

    :raises SystemExit: not PostgreSQL, no veterans yet, or the capabilities were seeded already.
    """
    from backend.extensions import db
    from bench import seed_care, seed_pay

    started = time.monotonic()
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            raise SystemExit("bench/seed_caps.py: PostgreSQL only (set-based INSERT … SELECT)")
        with db.engine.connect() as conn:
            ctx = Ctx(conn, seed, out)
            if not ctx.scalar("SELECT EXISTS (SELECT 1 FROM veteran)"):
                raise SystemExit("bench/seed_caps.py: no veterans; run bench/seed.py first")
            if ctx.scalar("SELECT EXISTS (SELECT 1 FROM booking_service)"):
                raise SystemExit("bench/seed_caps.py: the capabilities are seeded already (booking_service has rows)")
            out(f"seeding capabilities (seed {seed}, today {ctx.today}, history {history_days} days)")
            prepare(ctx)
            bookings(ctx, history_days)
            seed_pay.pension(ctx, payroll_months)
            notifications(ctx)
            seed_care.ratings(ctx)
            seed_care.contacts(ctx)
            seed_care.assistance(ctx)
            seed_care.onboarding(ctx)
            seed_care.archives(ctx)
            ctx.conn.commit()
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("ANALYZE"))
    out(f"capabilities seeded in {time.monotonic() - started:.1f} s")
    return ctx.counts


def main(argv=None):
    from bench.seed import make_app

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=20261126)
    parser.add_argument("--history-days", type=int, default=365, help="days of past slots and bookings")
    parser.add_argument("--payroll-months", type=int, default=2, help="confirmed payroll runs before this month")
    parser.add_argument(
        "--database-url", default=os.environ.get("MIGRATION_DATABASE_URL") or os.environ.get("DATABASE_URL")
    )
    args = parser.parse_args(argv)
    if not args.database_url:
        parser.error("set MIGRATION_DATABASE_URL or DATABASE_URL (or --database-url) to a bench/seed.py database")
    counts = seed_capabilities(
        make_app(args.database_url),
        seed=args.seed,
        history_days=args.history_days,
        payroll_months=args.payroll_months,
    )
    for table, n in sorted(counts.items()):
        print(f"  {table:<22}{n:>12,}")


if __name__ == "__main__":
    main()
