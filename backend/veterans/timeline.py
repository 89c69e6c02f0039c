"""A veteran's records across capabilities, as the portal shows them: the registrations of every year, the trips,
and one timeline of record changes, registration events and trip events.

Every entry names people (a staff member's full name, 「本人（小程序）」, 「系统」) and uses Chinese labels: never a
login name, a role or action code, or an object id. Trip entries never carry whereabouts (destination, dates):
those are read on the trip's own page, where each view is audited.
"""

from dataclasses import dataclass

from sqlalchemy import select

from backend.audit.display import VETERAN_FIELD_LABELS, staff_names, summarize, unit_ids_in, unit_names
from backend.extensions import db
from backend.orgs.scope import scoped
from backend.registration.models import ACTION_LABELS as REGISTRATION_ACTIONS
from backend.registration.models import Registration, RegistrationEvent
from backend.travel.models import Trip, TripEvent
from backend.veterans import service as veterans_service

CHANNEL_LABELS = {
    "online": "小程序",
    "miniprogram": "小程序",
    "onsite": "现场办理",
    "counter": "窗口",
    "phone": "电话",
    "portal": "管理端",
    "import": "批量导入",
    "system": "系统",
}
HISTORY_ACTIONS = {"created": "登记", "updated": "修改信息", "moved": "调整服务站/网格"}
TRIP_ACTIONS = {
    "reported": "报备出行",
    "departed": "已出境",
    "returned": "已返回",
    "cancelled": "取消出行",
    "overdue": "逾期未归",
    "followed_up": "跟进联系",
}
TIMELINE_LIMIT = 300


@dataclass
class Entry:
    occurred_at: object
    who: str
    channel: str
    what: str
    note: str = ""
    subject: str = ""  # on the combined timeline: 「2026 年度确认」, 「出行报备」, 「基本信息」
    endpoint: str | None = None  # where the subject's page is
    params: dict | None = None


def _who(actor_type, by_id=None, by_name=None, *, actor_id=None, label=None):
    if actor_type == "staff":
        return (by_id or {}).get(actor_id) or (by_name or {}).get(label) or "工作人员"
    if actor_type == "veteran":
        return "本人（小程序）"
    return "系统"


def registration_entries(events):
    """A registration's events (RegistrationEvent rows) as Entry, oldest first."""
    by_id, _ = staff_names(ids={e.actor_id for e in events if e.actor_type == "staff" and e.actor_id})
    return [
        Entry(
            occurred_at=e.occurred_at,
            who=_who(e.actor_type, by_id, actor_id=e.actor_id),
            channel=CHANNEL_LABELS.get(e.channel, "其他"),
            what=REGISTRATION_ACTIONS.get(e.action, "其他操作"),
            note=summarize({"sections": e.details.get("sections")} if e.details else {}),
        )
        for e in events
    ]


def trip_entries(events):
    """A trip's events (TripEvent rows, which name staff by login) as Entry, oldest first."""
    _, by_name = staff_names(usernames={e.actor_label for e in events if e.actor_type == "staff" and e.actor_label})
    return [
        Entry(
            occurred_at=e.occurred_at,
            who=_who(e.actor_type, by_name=by_name, label=e.actor_label),
            channel=CHANNEL_LABELS.get(e.channel, "其他"),
            what=TRIP_ACTIONS.get(e.action, "其他操作"),
        )
        for e in events
    ]


def history_entries(rows):
    """VeteranHistory rows as Entry: field names and unit names, never values or ids."""
    units = unit_names(unit_ids_in([r.details for r in rows]))
    out = []
    for r in rows:
        details = r.details or {}
        if r.action == "created" and details.get("station_id"):
            note = f"服务站：{units.get(details['station_id'], '—')}"
        elif details.get("fields"):
            note = "修改了：" + "、".join(VETERAN_FIELD_LABELS.get(f, "其他信息") for f in details["fields"])
        else:
            note = summarize(details, units)
        out.append(
            Entry(
                occurred_at=r.occurred_at,
                who=r.actor.full_name if r.actor else ("本人（小程序）" if r.channel == "miniprogram" else "系统"),
                channel=CHANNEL_LABELS.get(r.channel, "其他"),
                what=HISTORY_ACTIONS.get(r.action, "其他操作"),
                note=note,
                subject="基本信息",
            )
        )
    return out


def registrations_of(*, actor, veteran):
    """The veteran's registrations of every year, newest first; [] without registration.view."""
    if not actor.can("registration.view"):
        return []
    query = select(Registration).where(Registration.veteran_id == veteran.id)
    return db.session.scalars(scoped(query, actor, Registration.unit_id).order_by(Registration.year.desc())).all()


def trips_of(*, actor, veteran):
    """The veteran's trips, newest first; [] without travel.view. Callers show status and report date only."""
    if not actor.can("travel.view"):
        return []
    query = select(Trip).where(Trip.veteran_id == veteran.id)
    return db.session.scalars(scoped(query, actor, Trip.unit_id).order_by(Trip.id.desc())).all()


def veteran_timeline(*, actor, veteran_id, limit=TIMELINE_LIMIT):
    """(veteran, [Entry]) newest first: record changes, and the registration and trip events the actor may see.

    :raises PermissionDenied, VeteranNotFound
    """
    veteran = veterans_service.get_veteran(actor=actor, veteran_id=veteran_id)
    history = veterans_service.list_history(actor=actor, veteran_id=veteran.id)[:limit]
    entries = history_entries(history)
    regs = {r.id: r for r in registrations_of(actor=actor, veteran=veteran)}
    if regs:
        events = db.session.scalars(
            select(RegistrationEvent)
            .where(RegistrationEvent.registration_id.in_(regs))
            .order_by(RegistrationEvent.id.desc())
            .limit(limit)
        ).all()
        for event, entry in zip(events, registration_entries(events), strict=True):
            reg = regs[event.registration_id]
            entry.subject, entry.endpoint = f"{reg.year} 年度确认", "registration.detail"
            entry.params = {"registration_id": reg.id}
            entries.append(entry)
    trips = {t.id: t for t in trips_of(actor=actor, veteran=veteran)}
    if trips:
        events = db.session.scalars(
            select(TripEvent).where(TripEvent.trip_id.in_(trips)).order_by(TripEvent.id.desc()).limit(limit)
        ).all()
        for event, entry in zip(events, trip_entries(events), strict=True):
            entry.subject, entry.endpoint, entry.params = "出行报备", "travel.detail", {"trip_id": event.trip_id}
            entries.append(entry)
    entries.sort(key=lambda e: e.occurred_at, reverse=True)
    return veteran, entries[:limit]
