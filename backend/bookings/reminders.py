"""The day-before reminders: each booked booking of tomorrow is reminded once, one notification per slot."""

from collections import defaultdict
from datetime import datetime, time, timedelta

from flask import current_app
from sqlalchemy import select, update

from backend.bookings.models import Booking, BookingService, Slot
from backend.db import transaction, utcnow
from backend.extensions import db
from backend.notifications.events import notify
from backend.orgs.models import OrgUnit
from backend.registration.windows import CST

TITLE = "预约服务提醒"
LINK = "pages/bookings/index"


def cst_day_bounds(day):
    """[start, end) in UTC of the CST calendar day `day`."""
    start = datetime.combine(day, time(0), tzinfo=CST)
    return start, start + timedelta(days=1)


def send_due(now=None):
    """Remind every booked booking of tomorrow (CST) not yet reminded, from BOOKING_REMIND_HOUR_CST today on.

    The bookings are claimed by one conditional UPDATE (`reminded_at IS NULL` … RETURNING) in the same transaction
    as the notifications, so a rerun, a second beat or a concurrent worker never reminds a booking twice (on
    PostgreSQL the loser's UPDATE waits for the winner's row locks, then finds `reminded_at` set). A booking made
    after the hour for tomorrow is claimed by the next run. The UPDATE is bounded by the stations that offer
    services and by tomorrow's range, so it walks ix_booking_station_starts_at.

    Returns {"reminded": bookings, "notifications": notifications (one per slot)}.
    """
    now = now or utcnow()
    local = now.astimezone(CST)
    if local.hour < current_app.config["BOOKING_REMIND_HOUR_CST"]:
        return {"reminded": 0, "notifications": 0}
    start, end = cst_day_bounds(local.date() + timedelta(days=1))
    with transaction():
        claimed = db.session.execute(
            update(Booking)
            .where(
                Booking.station_id.in_(select(BookingService.station_id).distinct()),
                Booking.starts_at >= start,
                Booking.starts_at < end,
                Booking.status == "booked",
                Booking.reminded_at.is_(None),
            )
            .values(reminded_at=now)
            .returning(Booking.slot_id, Booking.veteran_id)
            .execution_options(synchronize_session=False)
        ).all()
        by_slot = defaultdict(list)
        for slot_id, veteran_id in claimed:
            by_slot[slot_id].append(veteran_id)
        for slot, service, station in _slots(by_slot):
            notify(
                "booking.reminder",
                by_slot[slot.id],
                title=TITLE,
                body=reminder_body(slot, service, station),
                link=LINK,
                values={"预约时间": cst_text(slot.starts_at), "服务站": station.name},
                sender_unit_id=station.id,
            )
    return {"reminded": len(claimed), "notifications": len(by_slot)}


def _slots(by_slot):
    if not by_slot:
        return []
    return db.session.execute(
        select(Slot, BookingService, OrgUnit)
        .join(BookingService, BookingService.id == Slot.service_id)
        .join(OrgUnit, OrgUnit.id == Slot.station_id)
        .where(Slot.id.in_(sorted(by_slot)))
        .order_by(Slot.id)
    ).all()


def cst_text(moment):
    """「2026年12月01日 09:30」: a UTC moment as the veteran reads it (China Standard Time)."""
    return moment.astimezone(CST).strftime("%Y年%m月%d日 %H:%M")


def reminder_body(slot, service, station):
    """The inbox text: the service, the time (CST), where, what to bring. No check-in code: one text serves every
    veteran of the slot, and each finds their own code on the booking page of the mini program."""
    ends = slot.ends_at.astimezone(CST).strftime("%H:%M")
    place = station.name + (f"（{service.location}）" if service.location else "")
    lines = [f"您预约的「{service.name}」将于{cst_text(slot.starts_at)}—{ends}在{place}办理，请准时前往。"]
    materials = [line.strip() for line in (service.materials or "").splitlines() if line.strip()]
    if materials:
        lines.append("请携带：" + "、".join(materials) + "。")
    lines.append("到达后在小程序“我的预约”中出示签到码即可；如不能前往，请提前取消预约。")
    return "\n".join(lines)
