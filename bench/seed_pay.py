"""Retirement pay rows for bench/seed_caps.py (issue 21): every active veteran paid, with a sealed account each.

A pay profile (active from the placement date, one of the three adjustment categories), its start event, a base
amount (central funds, 2,500–4,500 yuan) and an allowance (local funds, 200–600 yuan) from the start month, and a
bank account sealed per veteran with backend/pii exactly as backend/pension/accounts.py seals it (COPY; ~70k seals/s).
Then `payroll_months` confirmed province runs before the current month (the current month is left for a measured
run), one line per veteran paid that month carrying the account as sealed, 0.3% failed at the bank, and the funding
totals the figures read.
"""

from datetime import date

from sqlalchemy import text

BANKS = ("中国农业银行", "中国工商银行", "中国建设银行", "中国邮政储蓄银行", "农村商业银行")
CATEGORIES = ("一类", "二类", "三类")  # backend/pension/demo.py


def _months_before(today, count):
    """The first days of the `count` months before today's month, oldest first."""
    months, year, month = [], today.year, today.month
    for _ in range(count):
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
        months.append(date(year, month, 1))
    return months[::-1]


def _accounts(ctx):
    """COPY one sealed account per paid veteran (a streamed read on a second connection)."""
    from backend import pii
    from backend.extensions import db
    from backend.pension.accounts import CONTEXT
    from bench.seed import Writer

    seed = ctx.seed % 100_000

    def rows():
        with db.engine.connect().execution_options(stream_results=True, yield_per=20_000) as read:
            result = read.execute(
                text("SELECT p.veteran_id, v.name FROM pay_profile p JOIN veteran v ON v.id = p.veteran_id ORDER BY 1")
            )
            for vid, name in result:
                number = f"6228480{(vid * 7919 + seed) % 10**12:012d}"
                yield {
                    "veteran_id": vid,
                    "bank": BANKS[vid % len(BANKS)],
                    "branch": f"{BANKS[vid % len(BANKS)].removeprefix('中国')}第{vid % 40 + 1}营业所",
                    "account_enc": pii.encrypt(number, context=CONTEXT),
                    "account_last4": number[-4:],
                    "holder_name": name,
                    "updated_at": ctx.today,
                }

    n = Writer(db.engine, out=lambda line: None).load("pay_account", rows())
    ctx.counts["pay_account"] = n
    ctx.out(f"  {'pay_account':<22}{n:>12,} rows (sealed one by one)")


def pension(ctx, payroll_months):
    ctx.step(
        "pay_profile",
        f"""INSERT INTO pay_profile (veteran_id, station_id, category, state, state_since, pay_start_on, updated_at,
               version_id)
           SELECT v.id, v.station_id, (ARRAY{list(CATEGORIES)})[1 + {ctx.h("v.id", 40)} % 3], 'active',
                  least(v.placement_date, CURRENT_DATE), least(v.placement_date, CURRENT_DATE), now(), 1
           FROM seed_vet v ORDER BY v.id""",
    )
    ctx.step(
        "pay_state_event",
        """INSERT INTO pay_state_event (veteran_id, action, effective_on, reason, created_at)
           SELECT veteran_id, 'start', pay_start_on, NULL, pay_start_on::timestamp AT TIME ZONE 'Asia/Shanghai'
           FROM pay_profile ORDER BY veteran_id""",
    )
    ctx.step(
        "pay_amount",
        f"""INSERT INTO pay_amount (veteran_id, component, amount_fen, funding, effective_month, note, created_at)
           SELECT veteran_id, c.component, c.fen, c.funding, date_trunc('month', pay_start_on)::date, NULL,
                  pay_start_on::timestamp AT TIME ZONE 'Asia/Shanghai'
           FROM pay_profile CROSS JOIN LATERAL (VALUES
               ('base', 250000 + ({ctx.h("veteran_id", 41)} % 201) * 1000, 'central'),
               ('allowance', 20000 + ({ctx.h("veteran_id", 42)} % 9) * 5000, 'local')) AS c(component, fen, funding)
           ORDER BY veteran_id, c.component""",
    )
    ctx.conn.commit()
    _accounts(ctx)
    province = ctx.conn.execute(text("SELECT id, code FROM org_unit WHERE depth = 0 ORDER BY id LIMIT 1")).first()
    staff = ctx.conn.execute(
        text(
            "SELECT id FROM staff WHERE username IN ('bench-province', 'bench-city') "
            "OR username LIKE 'bench-st-%' ORDER BY username LIKE 'bench-st-%', username DESC, id LIMIT 2"
        )
    ).scalars()
    maker, checker = list(staff)
    for month in _months_before(ctx.today, payroll_months):
        paid_on = f"(TIMESTAMPTZ '{month.isoformat()} 02:00+00' + interval '14 days')"
        run_id = ctx.scalar(
            f"""INSERT INTO payroll_run (unit_id, month, number, state, maker_id, checker_id, confirmed_at, total_rows,
                   processed_rows, exception_count, total_fen, created_at, finished_at, updated_at, version_id)
               VALUES (:unit, :month, :number, 'confirmed', :maker, :checker, {paid_on} - interval '2 days', 0, 0,
                   0, 0, {paid_on} - interval '4 days', {paid_on} - interval '4 days', {paid_on}, 1)
               RETURNING id""",
            unit=province.id,
            month=month,
            number=f"{province.code or 'bench'}-{month:%Y%m}-01",
            maker=maker,
            checker=checker,
        )
        failed = f"{ctx.h('p.veteran_id + ' + str(month.toordinal()), 43)} % 1000 < 3"
        ctx.step(
            "payroll_line",
            f"""INSERT INTO payroll_line (run_id, veteran_id, station_id, base_fen, allowance_fen, adjustment_fen,
                   back_pay_fen, deduction_fen, net_fen, central_fen, local_fen, base_funding, allowance_funding,
                   back_pay_central_fen, exceptions, held, account_enc, bank, holder_name, veteran_name, carry_fen,
                   status, bank_reason, carried, settled_at)
               SELECT :run, p.veteran_id, p.station_id, b.amount_fen, a.amount_fen, 0, 0, 0,
                      b.amount_fen + a.amount_fen, b.amount_fen, a.amount_fen, 'central', 'local', 0,
                      CAST('[]' AS json), false, acc.account_enc, acc.bank, acc.holder_name, v.name, 0,
                      CASE WHEN {failed} THEN 'failed' ELSE 'paid' END,
                      CASE WHEN {failed} THEN '账户状态异常（已冻结）' END, false, {paid_on}
               FROM pay_profile p
               JOIN veteran v ON v.id = p.veteran_id
               JOIN pay_amount b ON b.veteran_id = p.veteran_id AND b.component = 'base'
               JOIN pay_amount a ON a.veteran_id = p.veteran_id AND a.component = 'allowance'
               JOIN pay_account acc ON acc.veteran_id = p.veteran_id
               WHERE p.pay_start_on < :month ORDER BY p.station_id, p.veteran_id""",
            run=run_id,
            month=month,
        )
        ctx.step(
            "pay_funding_total",
            """INSERT INTO pay_funding_total (run_id, month, station_id, station_path, component, funding, amount_fen,
                   veteran_count)
               SELECT :run, :month, l.station_id, u.path, c.component, c.funding, sum(c.fen), count(*)
               FROM payroll_line l JOIN org_unit u ON u.id = l.station_id
               CROSS JOIN LATERAL (VALUES ('base', l.base_funding, l.base_fen),
                   ('allowance', l.allowance_funding, l.allowance_fen)) AS c(component, funding, fen)
               WHERE l.run_id = :run AND NOT l.held GROUP BY l.station_id, u.path, c.component, c.funding""",
            run=run_id,
            month=month,
        )
        ctx.run(
            """UPDATE payroll_run r SET total_rows = t.n, processed_rows = t.n, total_fen = t.fen
               FROM (SELECT count(*) AS n, COALESCE(sum(net_fen), 0) AS fen FROM payroll_line WHERE run_id = :run) t
               WHERE r.id = :run""",
            run=run_id,
        )
        ctx.counts["payroll_run"] = ctx.counts.get("payroll_run", 0) + 1
        ctx.conn.commit()
