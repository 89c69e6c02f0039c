"""The weekly contact reminder of each station (本周联系提醒): overdue and due-this-week counts, recorded once per
station and CST week (staff-facing; veterans get no message). Shown on the station's workbench card."""

from sqlalchemy import select

from backend.care import figures, plans
from backend.care.models import ContactDigest
from backend.db import transaction
from backend.extensions import db
from backend.orgs.models import OrgUnit
from backend.registration.windows import today_cst


def run_weekly(today=None):
    """Record this week's digest for every station without one yet (idempotent: a rerun in the week adds nothing)."""
    today = today or today_cst()
    plans.resync_moved()
    plans.ensure_plans()
    monday, next_monday = figures.week_bounds(today)
    done = set(db.session.scalars(select(ContactDigest.station_id).where(ContactDigest.week_start == monday)))
    created = 0
    for station_id in db.session.scalars(select(OrgUnit.id).where(OrgUnit.level == "station").order_by(OrgUnit.id)):
        if station_id in done:
            continue
        with transaction():
            db.session.add(
                ContactDigest(
                    station_id=station_id,
                    week_start=monday,
                    overdue=figures.count_overdue_at(station_id, today),
                    due_this_week=figures.count_due_between(station_id, today, next_monday),
                )
            )
        created += 1
    return created


def latest_for(actor, today=None):
    """This week's digests of the stations in the actor's subtree (at most a few shown on the card)."""
    monday, _ = figures.week_bounds(today)
    return db.session.execute(
        select(ContactDigest, OrgUnit)
        .join(OrgUnit, OrgUnit.id == ContactDigest.station_id)
        .where(ContactDigest.week_start == monday, OrgUnit.path.startswith(actor.scope_path, autoescape=True))
        .order_by(ContactDigest.overdue.desc(), OrgUnit.id)
        .limit(5)
    ).all()
