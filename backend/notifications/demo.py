"""Demo notifications: tags on some veterans, and one care notification from 青山县 sent three days ago with the
delivery outcomes a real send leaves (pushed and read, pushed but unread, inbox only, not bound), so the report, the
recipients list and the call list have something to show. Seeded, repeatable."""

import random
from datetime import timedelta

from sqlalchemy import select, update

from backend.db import utcnow
from backend.extensions import db
from backend.inbox.models import InboxMessage
from backend.notifications.events import current_version, write_rows
from backend.notifications.models import Delivery, Notification, VeteranTag
from backend.veterans.models import Veteran

TAGS = ["重点关注", "高龄", "困难家庭", "志愿者"]


def load(units, seed=20261126):
    rng = random.Random(seed)
    county = units["青山县"]
    veterans = db.session.scalars(
        select(Veteran).where(Veteran.unit_path.startswith(county.path)).order_by(Veteran.id)
    ).all()
    for veteran in veterans:
        if rng.random() < 0.3:
            db.session.add(VeteranTag(veteran_id=veteran.id, tag=rng.choice(TAGS)))
    chosen = [v for v in veterans if rng.random() < 0.25][:40]
    if not chosen:
        return
    sent_at = utcnow() - timedelta(days=3)
    version = current_version("care")
    notification = Notification(
        kind="care",
        source="staff",
        template_version_id=version.id if version else None,
        title="冬季关爱提醒",
        body="天气转冷，请注意防寒保暖。如有困难，请联系所在服务站，我们将及时为您提供帮助。",
        link="pages/inbox/index",
        sender_unit_id=county.id,
        audience={"unit_id": county.id, "tags": ["高龄"]},
        status="done",
        follow_up=True,
        recipient_count=len(chosen),
        materialized=True,
        started_at=sent_at,
        finished_at=sent_at + timedelta(minutes=2),
        created_at=sent_at - timedelta(hours=1),
    )
    db.session.add(notification)
    db.session.flush()
    write_rows(notification, [v.id for v in chosen], now=sent_at)
    for i, veteran in enumerate(chosen):
        outcome = i % 4
        values = {"updated_at": sent_at}
        if outcome in (0, 1):
            values.update(status="sent", msgid=str((1 << 60) + i), sent_at=sent_at, result="success", result_at=sent_at)
        else:
            values.update(status="skipped", skip_reason="no_credit" if outcome == 2 else "not_bound")
        db.session.execute(
            update(Delivery)
            .where(Delivery.notification_id == notification.id, Delivery.veteran_id == veteran.id)
            .values(**values)
        )
        if outcome == 0 or (outcome == 2 and i % 3 == 0):
            db.session.execute(
                update(InboxMessage)
                .where(InboxMessage.notification_id == notification.id, InboxMessage.veteran_id == veteran.id)
                .values(read_at=sent_at + timedelta(hours=rng.randrange(1, 48)))
            )
