"""Demo data of Education reminders (Art. 5) (issue 19): a confidentiality reminder sent to 青山镇 five days ago with
some acknowledgements (inbox only, as the pipeline leaves it), a draft political campaign of 青山县, and an in-person
session at 青山镇 with attendance. Seeded, repeatable."""

import random
from datetime import timedelta

from sqlalchemy import select, update

from backend.db import utcnow
from backend.education.campaigns import inbox_body
from backend.education.models import EducationAttendance, EducationCampaign, EducationSession
from backend.extensions import db
from backend.inbox.models import InboxMessage
from backend.notifications import render
from backend.notifications.events import write_rows
from backend.notifications.models import Delivery, Notification
from backend.registration.windows import today_cst
from backend.staff.models import Staff
from backend.veterans.models import Veteran

STATION, COUNTY = "青山镇退役军人服务站", "青山县"
LINKS = [{"title": "保密常识学习材料", "url": "https://example.gov.cn/baomi/xuexi"}]


def load(units, seed=19005):
    """Called with {unit name: unit} inside the demo transaction."""
    station, county = units.get(STATION), units.get(COUNTY)
    staff_id = db.session.scalar(select(Staff.id).order_by(Staff.id))
    if station is None or county is None or staff_id is None:
        return
    rng = random.Random(seed)
    veterans = db.session.scalars(select(Veteran).where(Veteran.station_id == station.id).order_by(Veteran.id)).all()
    today, sent_at = today_cst(), utcnow() - timedelta(days=5)
    _sent_campaign(station, staff_id, veterans, rng, today, sent_at)
    db.session.add(
        EducationCampaign(
            unit_id=county.id,
            kind="political",
            title="学习党的二十届三中全会精神",
            content="请各位退役军人认真学习全会精神，结合自身实际谈体会。",
            links=[],
            audience={"unit_id": county.id},
            due_on=today + timedelta(days=30),
            state="draft",
            created_by_id=staff_id,
        )
    )
    session = EducationSession(
        unit_id=station.id,
        kind="political",
        title="退役军人政治教育集中学习",
        held_on=today - timedelta(days=10),
        place="青山镇退役军人服务站会议室",
        created_by_id=staff_id,
    )
    db.session.add(session)
    db.session.flush()
    for veteran in veterans[:12]:
        attended = rng.random() < 0.8
        db.session.add(
            EducationAttendance(
                session_id=session.id,
                veteran_id=veteran.id,
                attended=attended,
                note=None if attended else "外出务工，请假",
                recorded_by_id=staff_id,
            )
        )


def _sent_campaign(station, staff_id, veterans, rng, today, sent_at):
    if not veterans:
        return
    due = today + timedelta(days=10)
    title, content = "保密提醒：严守军事秘密", "退役不褪色，保密不松懈。请勿在网络、社交平台谈论原部队的涉密信息。"
    campaign = EducationCampaign(
        unit_id=station.id,
        kind="confidentiality",
        title=title,
        content=content,
        links=LINKS,
        audience={"unit_id": station.id},
        due_on=due,
        state="sent",
        recipient_count=len(veterans),
        created_by_id=staff_id,
        created_at=sent_at - timedelta(hours=2),
        sent_at=sent_at,
    )
    notification = Notification(
        kind="education",
        source="staff",
        title=title,
        body=inbox_body(content, LINKS),
        variables={"截止日期": due.strftime(render.CST_FORMAT)},
        sender_unit_id=station.id,
        created_by_id=staff_id,
        audience={"unit_id": station.id},
        status="done",
        follow_up=False,
        recipient_count=len(veterans),
        materialized=True,
        started_at=sent_at,
        finished_at=sent_at + timedelta(minutes=1),
        created_at=sent_at,
    )
    db.session.add(notification)
    db.session.flush()
    campaign.notification_id = notification.id
    db.session.add(campaign)
    write_rows(notification, [v.id for v in veterans], now=sent_at)
    db.session.execute(
        update(Delivery)
        .where(Delivery.notification_id == notification.id)
        .values(status="skipped", skip_reason="no_template", updated_at=sent_at)
    )
    for veteran in veterans:
        if rng.random() < 0.55:
            at = sent_at + timedelta(hours=rng.randrange(1, 96))
            db.session.execute(
                update(InboxMessage)
                .where(InboxMessage.notification_id == notification.id, InboxMessage.veteran_id == veteran.id)
                .values(read_at=at, acknowledged_at=at)
            )
