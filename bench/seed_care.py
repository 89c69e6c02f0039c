"""Ratings, contacts, assistance, onboarding and archives for bench/seed_caps.py (issue 21); proportions in its
docstring. Sealed columns hold real ciphertexts for their contexts (a small pool sealed with backend/pii and picked
per row by a hash), so every page that unseals them works."""

import json

from backend.onboarding.models import STEPS

DUE_DAYS = {"party_transfer": 7, "check_in": 15, "bank_account": 15}  # config/onboarding.py; the rest 30
GOOD = ("服务热情，办事效率高", "工作人员耐心细致", "流程清楚，很快办好了", "环境整洁，等候时间短")
BAD = ("等了很久才办理", "工作人员态度不好", "材料要求没有提前讲清楚")


def _pick(ctx, name, values, key, salt):
    """SQL: one element of the bound array `name` chosen by a hash of `key`."""
    return f"(CAST(:{name} AS text[]))[1 + {ctx.h(key, salt)} % {len(values)}]"


def ratings(ctx):
    good, bad = ctx.pool("rating.comment", GOOD), ctx.pool("rating.comment", BAD)
    roll = ctx.h("b.id", 50) + " % 100"
    ctx.step(
        "rating",
        f"""INSERT INTO rating (veteran_id, subject, subject_id, station_id, staff_id, score, comment_sealed,
               created_at)
           SELECT b.veteran_id, 'booking', b.id, b.station_id, b.handled_by_id, s.score,
                  CASE WHEN {ctx.h("b.id", 52)} % 100 < 25 THEN CASE WHEN s.score >= 3
                       THEN {_pick(ctx, "good", good, "b.id", 53)} ELSE {_pick(ctx, "bad", bad, "b.id", 53)} END END,
                  b.completed_at + make_interval(hours => 2 + {ctx.h("b.id", 54)} % 46)
           FROM booking b CROSS JOIN LATERAL (SELECT CASE WHEN {roll} < 62 THEN 5 WHEN {roll} < 87 THEN 4
                   WHEN {roll} < 94 THEN 3 WHEN {roll} < 97 THEN 2 ELSE 1 END AS score) s
           WHERE b.status = 'completed' AND {ctx.h("b.id", 51)} % 100 < 35
             AND b.completed_at < now() - interval '2 days' ORDER BY b.id""",
        good=good,
        bad=bad,
    )
    record = {"contacts": ["电话联系本人，已说明情况并致歉"], "outcome": "已改进服务流程，本人表示认可"}
    handled = ctx.pool("feedback_case.handling", [record], as_json=True)[0]
    late = f"{ctx.h('r.id', 55)} % 100 < 10"
    closed = "r.created_at < now() - interval '12 days' AND " + ctx.h("r.id", 56) + " % 100 < 90"
    ctx.step(
        "feedback_case",
        f"""INSERT INTO feedback_case (source, rating_id, veteran_id, subject_unit_id, subject_staff_id, unit_id,
               escalations, state, opened_at, due_on, first_due_on, contacted_at, handling_sealed, resolved_at,
               revisit_result, revisit_at, closed_at, closed_in_time, version_id)
           SELECT 'rating', r.id, r.veteran_id, r.station_id, r.staff_id, s.county_id, 0,
                  CASE WHEN {closed} THEN 'closed' ELSE 'open' END, r.created_at,
                  (r.created_at AT TIME ZONE 'Asia/Shanghai')::date + 7,
                  (r.created_at AT TIME ZONE 'Asia/Shanghai')::date + 7,
                  CASE WHEN {closed} THEN r.created_at + interval '1 day' END,
                  CASE WHEN {closed} THEN :handled END,
                  CASE WHEN {closed} THEN r.created_at + interval '3 days' END,
                  CASE WHEN {closed} THEN 'satisfied' END,
                  CASE WHEN {closed} THEN r.created_at + interval '4 days' END,
                  CASE WHEN {closed} THEN r.created_at + CASE WHEN {late} THEN interval '10 days'
                                                              ELSE interval '4 days' END END,
                  CASE WHEN {closed} THEN NOT ({late}) END, 1
           FROM rating r JOIN seed_station s ON s.id = r.station_id WHERE r.score <= 2 ORDER BY r.id""",
        handled=handled,
    )
    ctx.step(
        "feedback_case_event",
        """INSERT INTO feedback_case_event (case_id, action, staff_id, from_unit_id, to_unit_id, occurred_at)
           SELECT id, 'opened', CAST(NULL AS bigint), CAST(NULL AS bigint), unit_id, opened_at FROM feedback_case
           UNION ALL SELECT id, 'closed', NULL, NULL, NULL, closed_at FROM feedback_case WHERE closed_at IS NOT NULL
           ORDER BY 1, 6""",
    )


def contacts(ctx):
    notes = ctx.pool(
        "care.contact_notes",
        [
            {"thought": "思想稳定", "work": "在本地企业工作", "life": "家庭和睦"},
            {"thought": "积极向上", "work": "自主创业", "life": "生活稳定"},
            {"thought": "关注安置政策", "work": "待业，正在找工作", "life": "有一定困难"},
        ],
        as_json=True,
    )
    ways = "(ARRAY['phone', 'phone', 'home_visit', 'at_station', 'wechat'])"
    rows = []
    for n, (share, lo, span) in enumerate(((85, 0, 120), (40, 120, 200))):
        rows.append(
            f"""SELECT v.id, v.station_id, CAST(:today AS date) - ({lo} + {ctx.h("v.id", 60 + n)} % {span}),
                       {ways}[1 + {ctx.h("v.id", 62 + n)} % 5], s.staff_id,
                       CASE WHEN {ctx.h("v.id", 64 + n)} % 100 < 30 THEN {_pick(ctx, "notes", notes, "v.id", 66)} END,
                       CAST(CASE WHEN {n} = 0 AND {ctx.h("v.id", 67)} % 100 < 3 THEN '["unemployed"]' ELSE '[]' END
                            AS json)
                FROM seed_vet v JOIN seed_station s ON s.id = v.station_id
                WHERE {ctx.h("v.id", 68 + n)} % 100 < {share}"""
        )
    ctx.step(
        "care_contact",
        f"""INSERT INTO care_contact (veteran_id, station_id, contact_on, way, staff_id, notes_sealed, flags,
               created_at)
           SELECT c.*, (c.contact_on + 1)::timestamp AT TIME ZONE 'Asia/Shanghai' - interval '6 hours'
           FROM ({" UNION ALL ".join(rows)}) AS c(veteran_id, station_id, contact_on, way, staff_id, notes, flags)
           ORDER BY c.contact_on, c.veteran_id""",
        today=ctx.today,
        notes=notes,
    )
    attention = f"{ctx.h('v.id', 67)} % 100 < 3 AND c.last IS NOT NULL"
    ctx.step(
        "care_contact_plan",
        f"""INSERT INTO care_contact_plan (veteran_id, station_id, unit_path, attention, assignee_staff_id,
               assignee_grid_worker, interval_days, base_on, last_contact_on, due_on, covered_until, created_at,
               updated_at, version_id)
           SELECT v.id, v.station_id, v.unit_path, {attention}, s.staff_id, v.grid_worker,
                  CASE WHEN {attention} THEN 30 ELSE 90 END, least(v.placement_date, CAST(:today AS date)), c.last,
                  COALESCE(c.last, least(v.placement_date, CAST(:today AS date)))
                      + CASE WHEN {attention} THEN 30 ELSE 90 END,
                  c.last + CASE WHEN {attention} THEN 30 ELSE 90 END, now(), now(), 1
           FROM seed_vet v JOIN seed_station s ON s.id = v.station_id
           LEFT JOIN (SELECT veteran_id, max(contact_on) AS last FROM care_contact GROUP BY veteran_id) c
             ON c.veteran_id = v.id ORDER BY v.id""",
        today=ctx.today,
    )


# status mix of assistance cases (cumulative per cent) and the categories
ASSIST = (("submitted", 10), ("under_review", 20), ("recommended", 28), ("approved", 38), ("rejected", 48))
ASSIST += (("paid", 60), ("closed", 100))
CATEGORIES = "(ARRAY['serious_illness', 'accident', 'disaster', 'family_emergency', 'other'])"


def assistance(ctx):
    desc = ctx.pool("assistance_case.description", ["本人患病住院治疗，医疗费用负担较重", "家中遭受洪涝灾害"])
    follow = ctx.pool("assistance_case.follow_up", ["回访：援助金已收到，生活基本恢复"])
    roll = ctx.h("v.id", 70) + " % 100"
    status = "CASE " + " ".join(f"WHEN {roll} < {cut} THEN '{s}'" for s, cut in ASSIST) + " END"
    ctx.run(
        f"""CREATE TEMP TABLE seed_assist AS
           SELECT v.id AS veteran_id, v.station_id, s.staff_id, {status} AS status,
                  (CAST(:today AS date) - (40 + {ctx.h("v.id", 71)} % 320)) AS opened_on,
                  200000 + {ctx.h("v.id", 72)} % 19 * 100000 AS fen
           FROM seed_vet v JOIN seed_station s ON s.id = v.station_id WHERE {ctx.h("v.id", 73)} % 1000 < 12""",
        today=ctx.today,
    )
    at = "((a.opened_on + {d})::timestamp AT TIME ZONE 'Asia/Shanghai' + interval '10 hours')"
    past = "a.status IN ('recommended', 'approved', 'paid', 'closed')"
    granted = "a.status IN ('approved', 'paid', 'closed')"
    paid = "a.status IN ('paid', 'closed')"
    ctx.step(
        "assistance_case",
        f"""INSERT INTO assistance_case (veteran_id, station_id, category, status, channel, description_sealed,
               requested_amount_fen, recommended_amount_fen, approved_amount_fen, approved_by_id, approved_at,
               reject_reason, paid_amount_fen, paid_on, payment_reference, funding_source, budget_year,
               follow_up_sealed, closed_on, created_by_id, created_at, updated_at)
           SELECT a.veteran_id, a.station_id, {CATEGORIES}[1 + {ctx.h("a.veteran_id", 74)} % 5], a.status,
                  (ARRAY['phone', 'counter', 'visit'])[1 + {ctx.h("a.veteran_id", 75)} % 3],
                  {_pick(ctx, "desc", desc, "a.veteran_id", 76)}, a.fen,
                  CASE WHEN {past} THEN a.fen END, CASE WHEN {granted} THEN a.fen END,
                  CASE WHEN {granted} THEN a.staff_id END, CASE WHEN {granted} THEN {at.format(d=7)} END,
                  CASE WHEN a.status = 'rejected' THEN '经核实不符合援助条件' END,
                  CASE WHEN {paid} THEN a.fen END, CASE WHEN {paid} THEN a.opened_on + 15 END,
                  CASE WHEN {paid} THEN 'ZF' || a.veteran_id END,
                  CASE WHEN {paid} THEN (ARRAY['central', 'local'])[1 + a.veteran_id % 2] END,
                  CASE WHEN {granted} THEN extract(year FROM a.opened_on + 7)::int END,
                  CASE WHEN a.status = 'closed' THEN CAST(:follow AS text) END,
                  CASE WHEN a.status = 'closed' THEN a.opened_on + 30 END,
                  CASE WHEN a.veteran_id % 3 = 0 THEN NULL ELSE a.staff_id END, {at.format(d=0)}, {at.format(d=30)}
           FROM seed_assist a ORDER BY a.opened_on, a.veteran_id""",
        desc=desc,
        follow=follow[0],
    )
    ctx.step(
        "assistance_event",
        """INSERT INTO assistance_event (case_id, occurred_at, action, from_status, to_status, staff_id, amount_fen)
           SELECT id, created_at, 'submitted', CAST(NULL AS text), 'submitted', created_by_id, requested_amount_fen
           FROM assistance_case
           UNION ALL SELECT id, updated_at, status, 'submitted', status, approved_by_id, approved_amount_fen
           FROM assistance_case WHERE status <> 'submitted' ORDER BY 1, 2""",
    )
    ctx.run("DROP TABLE seed_assist")


def onboarding(ctx):
    ctx.step(
        "onboarding_case",
        f"""INSERT INTO onboarding_case (veteran_id, station_id, status, notice_number, notice_date, arrived_on,
               party_member, summary, opened_by_id, opened_at, closed_on, closed_by_id, version_id)
           SELECT v.id, v.station_id, CASE WHEN c.closed THEN 'closed' ELSE 'open' END, '安置〔' || v.id || '〕号',
                  c.arrived - 20, c.arrived, v.party_member, CASE WHEN c.closed THEN '各项手续已办结' END, s.staff_id,
                  c.arrived::timestamp AT TIME ZONE 'Asia/Shanghai' + interval '9 hours',
                  CASE WHEN c.closed THEN c.arrived + 40 END, CASE WHEN c.closed THEN s.staff_id END, 1
           FROM seed_vet v JOIN seed_station s ON s.id = v.station_id
           CROSS JOIN LATERAL (SELECT CAST(:today AS date) - {ctx.h("v.id", 80)} % 365 AS arrived) a
           CROSS JOIN LATERAL (SELECT a.arrived,
                   a.arrived < CAST(:today AS date) - 45 AND {ctx.h("v.id", 81)} % 10 < 9 AS closed) c
           WHERE {ctx.h("v.id", 82)} % 1000 < 25 ORDER BY c.arrived, v.id""",
        today=ctx.today,
    )
    steps = ", ".join(f"({n}, '{step}', {DUE_DAYS.get(step, 30)})" for n, step in enumerate(STEPS))
    applies = "(d.step <> 'party_transfer' OR c.party_member)"
    done = f"(c.status = 'closed' OR d.n < {ctx.h('c.id', 83)} % 9)"
    late = f"{ctx.h('c.id * 16 + d.n', 84)} % 100 < 8"
    ctx.step(
        "onboarding_step",
        f"""INSERT INTO onboarding_step (case_id, station_id, step, required, state, due_on, done_on, handler_id,
               updated_at, version_id)
           SELECT c.id, c.station_id, d.step, {applies},
                  CASE WHEN NOT {applies} THEN 'not_applicable' WHEN {done} THEN 'done'
                       WHEN d.n % 2 = 0 THEN 'in_progress' ELSE 'pending' END,
                  CASE WHEN {applies} THEN c.arrived_on + d.days END,
                  CASE WHEN {applies} AND {done} THEN least(CAST(:today AS date),
                       c.arrived_on + d.days + CASE WHEN {late} THEN 5 ELSE -1 - d.n % 3 END) END,
                  CASE WHEN {applies} AND {done} THEN c.opened_by_id END, c.opened_at, 1
           FROM onboarding_case c CROSS JOIN (VALUES {steps}) AS d(n, step, days) ORDER BY c.id, d.n""",
        today=ctx.today,
    )
    ctx.step(
        "onboarding_event",
        """INSERT INTO onboarding_event (case_id, step, action, staff_id, occurred_at)
           SELECT id, CAST(NULL AS text), 'opened', opened_by_id, opened_at FROM onboarding_case
           UNION ALL SELECT id, NULL, 'closed', closed_by_id,
                  closed_on::timestamp AT TIME ZONE 'Asia/Shanghai' + interval '9 hours'
           FROM onboarding_case WHERE status = 'closed' ORDER BY 1, 5""",
    )


def archives(ctx):
    checklist = json.dumps({item: "ok" for item in ("fire", "damp", "pests", "locks", "completeness")})
    ctx.step(
        "archive_location",
        f"""INSERT INTO archive_location (unit_id, name, interval_days, last_inspected_on, next_due_on, active,
               created_at)
           SELECT u.id, '一号档案室', 90, CAST(:today AS date) - {ctx.h("u.id", 90)} % 80,
                  CAST(:today AS date) - {ctx.h("u.id", 90)} % 80 + 90, true, now()
           FROM org_unit u WHERE u.level = 'county' ORDER BY u.id""",
        today=ctx.today,
    )
    ctx.step(
        "archive_inspection",
        """INSERT INTO archive_inspection (location_id, inspected_on, inspector_id, checklist, created_at)
           SELECT l.id, l.last_inspected_on - 90 * i, s.staff_id, CAST(:checklist AS json),
                  (l.last_inspected_on - 90 * i)::timestamp AT TIME ZONE 'Asia/Shanghai' + interval '10 hours'
           FROM archive_location l
           JOIN LATERAL (SELECT staff_id FROM seed_station WHERE county_id = l.unit_id ORDER BY id LIMIT 1) s ON true
           CROSS JOIN generate_series(0, 3) AS i ORDER BY l.id, i DESC""",
        checklist=checklist,
    )
    ctx.step(
        "archive",
        f"""INSERT INTO archive (veteran_id, station_id, state, received_on, received_from, received_by_id,
               location_id, cabinet, shelf, created_at, version_id)
           SELECT v.id, v.station_id, 'in_custody', least(v.placement_date, CAST(:today AS date)),
                  '原部队政治工作部门', s.staff_id, l.id, (v.id % 40 + 1) || '号柜', (v.id % 6 + 1) || '层', now(), 1
           FROM seed_vet v JOIN seed_station s ON s.id = v.station_id
           JOIN archive_location l ON l.unit_id = s.county_id
           WHERE {ctx.h("v.id", 91)} % 100 < 60 ORDER BY v.id""",
        today=ctx.today,
    )
    ctx.step(
        "archive_access_log",
        """INSERT INTO archive_access_log (archive_id, station_id, event, occurred_at, staff_id, staff_name, items,
               details)
           SELECT a.id, a.station_id, 'intake', a.received_on::timestamp AT TIME ZONE 'Asia/Shanghai'
                  + interval '10 hours', a.received_by_id, st.full_name, CAST('[]' AS json), CAST('{}' AS json)
           FROM archive a JOIN staff st ON st.id = a.received_by_id ORDER BY a.id""",
    )
    _requests(ctx)


def _requests(ctx):
    roll = ctx.h("a.id", 92) + " % 100"
    state = f"CASE WHEN {roll} < 70 THEN 'done' WHEN {roll} < 80 THEN 'approved' WHEN {roll} < 90 THEN 'pending' "
    state += "ELSE 'rejected' END"
    decider = "(SELECT id FROM staff WHERE username LIKE 'bench-%' AND id <> a.received_by_id ORDER BY id LIMIT 1)"
    at = f"(now() - make_interval(days => 3 + {ctx.h('a.id', 93)} % 300))"
    ctx.step(
        "archive_request",
        f"""INSERT INTO archive_request (archive_id, station_id, kind, requester_kind, requester_name,
               requester_unit, purpose, item_ids, state, requested_by_id, requested_at, decided_by_id, decided_at,
               decision_note, looked_up_at, copied, done_by_id, version_id)
           SELECT a.id, a.station_id, r.kind, r.who,
                  CASE WHEN r.who = 'outside' THEN '李干事' ELSE '服务站工作人员' END,
                  CASE WHEN r.who = 'outside' THEN '县委组织部' ELSE '退役军人服务站' END, '政审', CAST('[]' AS json),
                  r.state, a.received_by_id, {at}, CASE WHEN r.state <> 'pending' THEN {decider} END,
                  CASE WHEN r.state <> 'pending' THEN {at} + interval '1 day' END,
                  CASE WHEN r.state = 'rejected' THEN '用途不符合查阅规定' END,
                  CASE WHEN r.state = 'done' THEN {at} + interval '2 days' END,
                  CASE WHEN r.state = 'done' AND r.kind = 'copy' THEN '履历表复印件1份' END,
                  CASE WHEN r.state = 'done' THEN a.received_by_id END, 1
           FROM archive a CROSS JOIN LATERAL (SELECT {state} AS state,
                   CASE WHEN a.id % 3 = 0 THEN 'copy' ELSE 'lookup' END AS kind,
                   CASE WHEN a.id % 2 = 0 THEN 'outside' ELSE 'staff' END AS who) r
           WHERE {ctx.h("a.id", 94)} % 1000 < 2 ORDER BY a.id""",
    )
    events = (
        ("requested", "TRUE", "requested_at", "requested_by_id"),
        ("approved", "state IN ('approved', 'done')", "decided_at", "decided_by_id"),
        ("rejected", "state = 'rejected'", "decided_at", "decided_by_id"),
        ("looked_up", "state = 'done' AND kind = 'lookup'", "looked_up_at", "done_by_id"),
        ("copied", "state = 'done' AND kind = 'copy'", "looked_up_at", "done_by_id"),
    )
    selects = " UNION ALL ".join(
        f"SELECT id, archive_id, station_id, '{event}', {when}, {who},"
        f" requester_name || '（' || requester_unit || '）', purpose FROM archive_request WHERE {cond}"
        for event, cond, when, who in events
    )
    ctx.step(
        "archive_access_log",
        f"""INSERT INTO archive_access_log (request_id, archive_id, station_id, event, occurred_at, staff_id,
               staff_name, requester, purpose, items, details)
           SELECT e.rid, e.aid, e.sid, e.event, e.at, e.staff, st.full_name, e.requester, e.purpose,
                  CAST('[]' AS json), CAST('{{}}' AS json)
           FROM ({selects}) AS e(rid, aid, sid, event, at, staff, requester, purpose)
           JOIN staff st ON st.id = e.staff ORDER BY e.at, e.rid""",
    )
