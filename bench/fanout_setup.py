"""Setup and checks for bench/fanout.py: the approver, the subscription credits, the notification, the final counts.

Everything here runs in the bench process against the seeded database, through the same services staff use
(backend/notifications/compose.py: save_draft, submit, approve), so "send" is the approval that starts the pipeline.
"""

from collections import Counter

from sqlalchemy import func, select, text

APPROVER = "bench-fanout-approver"
TEMPLATE = "TPL_CARE"  # the care template's WeChat id in the seeded message templates


def staff(username):
    from backend.extensions import db
    from backend.staff.models import Staff

    found = db.session.scalars(select(Staff).where(Staff.username == username)).first()
    if found is None:
        raise SystemExit(f"bench/fanout.py: no staff {username}; run bench/seed.py first")
    return found


def ensure_approver():
    """A second province reviewer (four-eyes rule: the writer never approves), created once."""
    from backend.db import transaction
    from backend.extensions import db
    from backend.staff import service as staff_service
    from backend.staff.models import Staff

    existing = db.session.scalars(select(Staff).where(Staff.username == APPROVER)).first()
    if existing is not None:
        return existing
    admin = staff("bench-secadmin")
    approver, _ = staff_service.create_staff(
        actor=admin,
        username=APPROVER,
        full_name="基准测试审批人",
        org_unit_id=staff("bench-province").org_unit_id,
        roles=["center_reviewer"],
    )
    with transaction():
        approver.must_change_password = False
    return approver


def recipient_ids(limit):
    """The first `limit` bound, reachable veterans (the development runs pick them by hand)."""
    from backend.accounts.models import WechatAccount
    from backend.extensions import db
    from backend.veterans.models import Veteran

    return db.session.scalars(
        select(Veteran.id)
        .join(WechatAccount, WechatAccount.veteran_id == Veteran.id)
        .where(Veteran.status.in_(("active", "suspended")))
        .order_by(Veteran.id)
        .limit(limit)
    ).all()


def grant_credits(owner_engine):
    """One TPL_CARE credit for every bound account (reset to exactly 1, so runs can repeat). Returns the openids."""
    with owner_engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO subscription_credit"
                " (openid, template_id, credits, long_term, granted, updated_at, refused)"
                " SELECT openid, :t, 1, false, false, now(), false FROM wechat_account"
                " ON CONFLICT (openid, template_id) DO UPDATE SET credits = 1, refused = false, updated_at = now()"
            ),
            {"t": TEMPLATE},
        )
        return [row[0] for row in conn.execute(text("SELECT openid FROM wechat_account ORDER BY id"))]


def compose(picks=None):
    """A care notification from the province to every bound veteran (or to `picks`), submitted: pending approval."""
    from backend.notifications import compose as service

    writer = staff("bench-province")
    audience = {} if picks else {"wechat": "bound"}
    notification, _ = service.save_draft(
        actor=writer,
        title="节日问候",
        body="{姓名}同志：{服务站}祝您节日快乐。",
        audience=audience,
        pick_ids=picks or (),
    )
    notification = service.submit(actor=writer, notification_id=notification.id)
    return notification.id, notification.recipient_count, notification.status


def approve(notification_id, approver):
    """The send: approval starts the fan-out once committed (dispatch.start_after_commit -> notifications.deliver)."""
    from backend.notifications import compose as service

    return service.approve(actor=approver, notification_id=notification_id).status


def progress(notification_id, counts=True):
    """({status: deliveries} or None without `counts`, the notification's own status)."""
    from backend.extensions import db
    from backend.notifications.models import Delivery, Notification

    rows = None
    if counts:
        rows = Counter(
            dict(
                db.session.execute(
                    select(Delivery.status, func.count())
                    .where(Delivery.notification_id == notification_id)
                    .group_by(Delivery.status)
                ).all()
            )
        )
    status = db.session.scalar(select(Notification.status).where(Notification.id == notification_id))
    db.session.rollback()
    return rows, status


def final_check(notification_id, fake_sent, owner_engine):
    """0 duplicates and 0 misses: WeChat receipts per openid against delivery rows and inbox entries."""
    receipts = Counter(s["touser"] for s in fake_sent if s.get("template_id") == TEMPLATE)
    with owner_engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT d.status, d.skip_reason, a.openid, d.msgid FROM delivery d"
                " LEFT JOIN wechat_account a ON a.veteran_id = d.veteran_id WHERE d.notification_id = :n"
            ),
            {"n": notification_id},
        ).all()
        inbox = conn.execute(
            text("SELECT count(*), count(DISTINCT veteran_id) FROM inbox_message WHERE notification_id = :n"),
            {"n": notification_id},
        ).one()
    statuses = Counter(r.status for r in rows)
    sent_openids = {r.openid for r in rows if r.status == "sent"}
    duplicates = sum(1 for n in receipts.values() if n > 1)
    return {
        "deliveries": len(rows),
        "statuses": dict(statuses),
        "skips": dict(Counter(r.skip_reason for r in rows if r.status == "skipped")),
        "receipts": sum(receipts.values()),
        "openids_received": len(receipts),
        "duplicates": duplicates,  # openids WeChat received this message for more than once
        "sent_without_receipt": len(sent_openids - set(receipts)),  # marked sent, WeChat never got it
        "receipt_not_sent": len(set(receipts) - sent_openids),  # WeChat got it, the row does not say sent
        "open": statuses.get("queued", 0) + statuses.get("sending", 0),  # misses: neither delivered nor final
        "inbox_rows": inbox[0],
        "inbox_veterans": inbox[1],
    }


def light(url, *, headers, duration, connections, pause_ms):
    """wrk with a think time: each connection waits `pause_ms` after every answer (wrk's delay() hook), so the load is
    light and steady (~connections x 1000 / pause_ms requests/s) instead of saturating the server."""
    import os
    import subprocess
    import tempfile

    from bench import load
    from bench.targets import Sample

    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(load.LUA + f"\ndelay = function() return {pause_ms} end\n")
    try:
        command = [load.WRK, "-t1", f"-c{connections}", f"-d{duration}s", "--timeout", "30s", "-s", script.name]
        for name, value in headers.items():
            command += ["-H", f"{name}: {value}"]
        output = subprocess.run(command + [url], capture_output=True, text=True, timeout=duration + 60).stdout
    finally:
        os.unlink(script.name)
    line = next((x for x in output.splitlines() if x.startswith("BENCH ")), None)
    if line is None:
        raise SystemExit(f"bench/fanout.py: wrk gave no summary:\n{output}")
    requests, micros, status_errors, socket_errors, p50, p95, p99 = (float(x) for x in line.split()[1:])
    errors = int(status_errors + socket_errors)
    return Sample(requests / (micros / 1e6), p50 / 1000, p95 / 1000, p99 / 1000, int(requests), errors)
