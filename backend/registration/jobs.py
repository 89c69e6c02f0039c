"""Scheduled jobs: mark overdue registrations when a window closes; remind veterans at the opening and two weeks
before the close, once each. Both are idempotent: running them again changes nothing."""

from datetime import timedelta

from sqlalchemy import select

from backend import pii
from backend.audit.service import SystemActor
from backend.db import transaction, utcnow
from backend.extensions import db
from backend.inbox.service import post_message
from backend.orgs.models import OrgUnit
from backend.registration.models import CONTENT_CONTEXT, Registration, RegistrationReminder
from backend.registration.service import insert_once, timeline
from backend.registration.windows import today_cst, window_for
from backend.veterans.models import Veteran

BATCH = 500
SYSTEM = SystemActor()


def _active_veterans():
    last = 0
    while True:
        rows = db.session.scalars(
            select(Veteran).where(Veteran.status == "active", Veteran.id > last).order_by(Veteran.id).limit(BATCH)
        ).all()
        if not rows:
            return
        yield rows
        last = rows[-1].id


def _windows():
    cache = {}

    def lookup(year, unit_id):
        if (year, unit_id) not in cache:
            cache[(year, unit_id)] = window_for(year, db.session.get(OrgUnit, unit_id))
        return cache[(year, unit_id)]

    return lookup


def mark_overdue(*, now=None):
    """Veterans whose window has closed with nothing submitted become overdue (listed for staff follow-up). Safe
    against concurrent on-site entry: drafts are locked, and a missing row is inserted only if still missing."""
    today = today_cst(now)
    year, window = today.year, _windows()
    marked = 0
    for batch in _active_veterans():
        with transaction():
            regs = {
                r.veteran_id: r
                for r in db.session.scalars(
                    select(Registration)
                    .where(Registration.year == year, Registration.veteran_id.in_([v.id for v in batch]))
                    .with_for_update(of=Registration)  # a draft saved on-site meanwhile is seen as it committed
                )
            }
            for veteran in batch:
                if today <= window(year, veteran.unit_id).closes_on:
                    continue
                reg = regs.get(veteran.id)
                if reg is not None and reg.status != "draft":
                    continue
                if reg is None:  # an empty row; the answers are prefilled when the veteran catches up
                    created = insert_once(
                        {
                            "veteran_id": veteran.id,
                            "unit_id": veteran.unit_id,
                            "year": year,
                            "status": "overdue",
                            "content_sealed": pii.encrypt_json({}, context=CONTENT_CONTEXT),
                            "channel": "system",
                            "return_reasons": {},
                        }
                    )
                    if created is None:
                        continue  # entered on-site a moment ago; the next run looks at it again
                    reg = db.session.get(Registration, created)
                else:
                    reg.status = "overdue"
                    db.session.flush()
                timeline(reg, actor=SYSTEM, action="overdue", channel="system")
                marked += 1
    return marked


REMINDERS = {
    "opening": ("年度确认登记已开始", "{year}年度确认登记已开始，请在{closes}前通过小程序提交，或到服务站现场办理。"),
    "closing": ("年度确认登记即将截止", "{year}年度确认登记将于{closes}截止，您尚未提交，请尽快办理。"),
}


def send_reminders(*, now=None):
    """Remind veterans with nothing submitted: once when the window opens, once two weeks before it closes."""
    today = today_cst(now)
    year, window = today.year, _windows()
    sent = 0
    for batch in _active_veterans():
        with transaction():
            ids = [v.id for v in batch]
            done = set(
                db.session.execute(
                    select(RegistrationReminder.veteran_id, RegistrationReminder.kind).where(
                        RegistrationReminder.year == year, RegistrationReminder.veteran_id.in_(ids)
                    )
                ).all()
            )
            submitted = set(
                db.session.scalars(
                    select(Registration.veteran_id).where(
                        Registration.year == year,
                        Registration.veteran_id.in_(ids),
                        Registration.status.in_(("submitted", "approved", "returned")),
                    )
                )
            )
            for veteran in batch:
                w = window(year, veteran.unit_id)
                if veteran.id in submitted or not w.is_open(today):
                    continue
                kind = "closing" if today >= w.closes_on - timedelta(days=14) else "opening"
                if (veteran.id, kind) in done:
                    continue
                title, body = REMINDERS[kind]
                db.session.add(RegistrationReminder(veteran_id=veteran.id, year=year, kind=kind, sent_at=utcnow()))
                post_message(
                    veteran_id=veteran.id,
                    kind=f"registration.{kind}",
                    title=title,
                    body=body.format(year=year, closes=f"{w.closes_on:%m月%d日}"),
                    link="pages/registration/index",
                )
                sent += 1
    return sent
