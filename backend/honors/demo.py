"""Demo data of honors (issue 17): a 八一 celebration of 青山县 with invitations (some answered) to veterans of
青山镇, a few awards, and a chronicle candidate proposed by the station's clerk for the county reviewer."""

from datetime import date, datetime, time, timedelta

from sqlalchemy import select

from backend.db import utcnow
from backend.extensions import db
from backend.honors.models import Award, Ceremony, ChronicleEntry, Invitation
from backend.registration.windows import CST, today_cst
from backend.staff.models import Staff
from backend.veterans.models import Veteran

AWARDS = [
    ("三等功", "national", "在抗洪抢险任务中表现突出", "中央军委", None),
    ("优秀共产党员", "county", "扎根基层、带头服务群众", "中共青山县委", "2026年度党组织评定意见：优秀"),
    ("见义勇为先进个人", "city", "勇救落水儿童", "秦川市人民政府", None),
]


def _next_august_first(today):
    day = date(today.year, 8, 1)
    return day if day > today + timedelta(days=7) else date(today.year + 1, 8, 1)


def load(units):
    """Called with {unit name: unit} inside the demo transaction."""
    county, station = units["青山县"], units["青山镇退役军人服务站"]
    clerk = db.session.scalars(select(Staff).where(Staff.username == "station")).first()
    reviewer = db.session.scalars(select(Staff).where(Staff.username == "reviewer")).first()
    veterans = db.session.scalars(
        select(Veteran).where(Veteran.station_id == station.id, Veteran.status == "active").order_by(Veteran.id)
    ).all()
    if clerk is None or reviewer is None or len(veterans) < 6:
        return
    today = today_cst()
    day = _next_august_first(today)
    ceremony = Ceremony(
        unit_id=county.id,
        kind="celebration",
        level="local",
        title="八一建军节座谈会",
        held_at=datetime.combine(day, time(9, 30), tzinfo=CST),
        place="青山县退役军人服务中心三楼会议室",
        attendees="县委常委、人武部政委，县退役军人事务局负责同志",
        note="请着便装，佩戴奖章",
        rsvp_by=day - timedelta(days=5),
        created_by_id=reviewer.id,
    )
    db.session.add(ceremony)
    db.session.flush()
    now = utcnow()
    for index, veteran in enumerate(veterans[:12]):
        status = ("accepted", "declined", "invited", "invited")[index % 4]
        db.session.add(
            Invitation(
                ceremony_id=ceremony.id,
                veteran_id=veteran.id,
                status=status,
                guests=1 if status == "accepted" and index % 8 == 0 else 0,
                responded_at=now if status != "invited" else None,
                recorded_by_id=clerk.id if index == 1 else None,
            )
        )
    for veteran, (title, level, deed, body, basis) in zip(veterans[:3], AWARDS, strict=True):
        db.session.add(
            Award(
                veteran_id=veteran.id,
                station_id=veteran.station_id,
                title=title,
                level=level,
                awarded_on=date(today.year - 1, 7, 1) - timedelta(days=30 * len(title)),
                deed=deed,
                approving_body=body,
                basis=basis,
                created_by_id=clerk.id,
            )
        )
    db.session.add(
        ChronicleEntry(
            veteran_id=veterans[0].id,
            station_id=station.id,
            status="candidate",
            reason="荣立三等功，退役后长期参与基层志愿服务，事迹突出",
            proposed_by_id=clerk.id,
        )
    )
