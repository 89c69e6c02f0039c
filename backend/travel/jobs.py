"""The daily overdue job: a planned return date that has passed with no return report makes the trip overdue,
puts it on the station's follow-up list and writes one reminder to the veteran's inbox."""

from sqlalchemy import select

from backend.db import transaction
from backend.extensions import db
from backend.inbox.service import post_message
from backend.registration.windows import today_cst
from backend.travel.models import Trip, TripEvent


def mark_overdue(*, now=None):
    today = today_cst(now)
    marked = 0
    with transaction():
        trips = db.session.scalars(
            select(Trip)
            .where(Trip.status.in_(("planned", "departed")), Trip.overdue.is_(False))
            .with_for_update(of=Trip, skip_locked=True)  # a trip being returned right now is left for the next run
        ).all()
        for trip in trips:
            if trip.details["planned_return"] >= today:
                continue
            trip.overdue = True
            db.session.add(TripEvent(trip_id=trip.id, actor_type="system", channel="system", action="overdue"))
            if not trip.overdue_reminded:
                trip.overdue_reminded = True
                post_message(
                    veteran_id=trip.veteran_id,
                    kind="travel.overdue",
                    title="请报告返回情况",
                    body="您报备的出行已过计划返回日期，请在小程序中报告返回日期；如行程有变，请联系服务站。",
                    link="pages/travel/index",
                )
            marked += 1
    return marked
