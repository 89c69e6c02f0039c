"""Education objects for tests and the authorization matrix: a draft and a sent campaign to station X1 (veteran A
among the recipients, the inbox entries materialized), and a session at X1."""

from datetime import timedelta


def veteran_a(w):
    if "veteran" not in w.objects:  # the matrix world has one (add_objects); a bare test world gets one here
        from tests.factories import create_veteran

        w.objects["veteran"] = create_veteran(station=w.x1, grid=w.x1_grid)
    return w.objects["veteran"]


def draft(w, key="education_draft", unit=None, due_days=7, **audience):
    if key not in w.objects:
        from backend.education import campaigns
        from backend.registration.windows import today_cst

        veteran_a(w)
        w.objects[key] = campaigns.create_campaign(
            actor=w.staff_x,
            kind="confidentiality",
            title="保密提醒：不在朋友圈发布涉密信息",
            content="请遵守保密纪律。",
            links=[{"title": "保密须知", "url": "https://example.gov.cn/baomi"}],
            audience={"unit_id": (unit or w.x1).id, **audience},
            due_on=today_cst() + timedelta(days=due_days),
        )
    return w.objects[key]


def deliver(campaign):
    """Run the fan-out the pipeline would run after commit: deliveries and inbox entries."""
    from backend.notifications.materialize import materialize_all

    materialize_all(campaign.notification_id)


def sent(w, key="education_sent", **kw):
    if key + "_done" not in w.objects:
        from backend.education import campaigns

        item = draft(w, key=key, **kw)
        campaigns.send(actor=w.staff_x, campaign_id=item.id)
        deliver(item)
        w.objects[key + "_done"] = True
    return w.objects[key]


def message_of(campaign, veteran):
    from sqlalchemy import select

    from backend.extensions import db
    from backend.inbox.models import InboxMessage

    return db.session.scalars(
        select(InboxMessage).where(
            InboxMessage.notification_id == campaign.notification_id, InboxMessage.veteran_id == veteran.id
        )
    ).one()


def ack_message_a(w):
    """Veteran A's inbox entry of a sent campaign (requires_ack)."""
    return message_of(sent(w), veteran_a(w))


def session(w):
    if "education_session" not in w.objects:
        from backend.education import sessions
        from backend.registration.windows import today_cst

        w.objects["education_session"] = sessions.create_session(
            actor=w.staff_x, unit_id=w.x1.id, kind="political", title="党史学习", held_on=today_cst(), place="服务站"
        )
    return w.objects["education_session"]
