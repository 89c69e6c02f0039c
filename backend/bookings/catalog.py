"""The catalog: the services a station offers and their working plans (station staff and above, within scope).

Every change is audited and reconciles the service's future slots (slots.reconcile): nothing booked is dropped.
Edits are optimistic: the form carries the version it was read at, and a moved version answers StaleUpdate.
"""

import re

from flask import current_app
from sqlalchemy import select

from backend.audit import service as audit_service
from backend.bookings import slots
from backend.bookings.models import BookingService
from backend.db import transaction
from backend.errors import NotFound, StaleUpdate, ValidationFailed
from backend.extensions import db
from backend.orgs.models import OrgUnit
from backend.orgs.scope import get_scoped, get_unit_in_scope, require_permission

WEEKDAYS = {"1": "周一", "2": "周二", "3": "周三", "4": "周四", "5": "周五", "6": "周六", "7": "周日"}
MAX_PERIODS = 3
DEFAULT_PLAN = {d: ([["09:00", "12:00"], ["14:00", "17:30"]] if int(d) <= 5 else []) for d in WEEKDAYS}
# offered by 「添加常用服务」 when a station has none yet; editable afterwards
DEFAULT_SERVICES = (
    ("档案查阅", "查阅本人退役军人档案材料", "身份证\n退役证"),
    ("证明开具", "开具退役军人相关证明", "身份证\n退役证"),
    ("政策咨询", "优待抚恤、安置就业等政策解答", ""),
    ("就业指导", "就业创业指导与岗位推荐", "身份证\n个人简历"),
    ("帮扶申请", "困难帮扶、临时救助申请", "身份证\n退役证\n困难情况证明材料"),
    ("心理疏导", "一对一心理咨询与疏导", ""),
)
FIELDS = ("name", "description", "materials", "location", "slot_minutes", "capacity", "book_ahead_days")
FIELDS += ("cutoff_minutes", "plan")
_PERIOD = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)$")


class ServiceNotFound(NotFound):
    code = "booking.service_not_found"
    message = "未找到该服务项目"


def get_service(*, actor, service_id, lock=False):
    """The service `service_id` of a station in the actor's subtree. :raises ServiceNotFound"""
    return get_scoped(
        BookingService, service_id, actor=actor, unit_column=BookingService.station_id, not_found=ServiceNotFound,
        lock=lock,
    )  # fmt: skip


def services_for_station(station_id):
    """The active services of a station, by name (the phone's list)."""
    return db.session.scalars(
        select(BookingService)
        .where(BookingService.station_id == station_id, BookingService.active.is_(True))
        .order_by(BookingService.name, BookingService.id)
    ).all()


def list_services(*, actor, station_id):
    """Every service of a station in scope, active first. :raises OrgUnitNotFound"""
    require_permission(actor, "bookings.manage")
    get_unit_in_scope(actor, station_id)
    return db.session.scalars(
        select(BookingService)
        .where(BookingService.station_id == station_id)
        .order_by(BookingService.active.desc(), BookingService.name, BookingService.id)
    ).all()


def stations_in_scope(actor):
    """The stations of the actor's subtree, by path (the portal's picker)."""
    return db.session.scalars(
        select(OrgUnit)
        .where(OrgUnit.path.startswith(actor.scope_path, autoescape=True), OrgUnit.level == "station")
        .order_by(OrgUnit.path)
    ).all()


def _station(actor, station_id):
    require_permission(actor, "bookings.manage")
    unit = get_unit_in_scope(actor, station_id)
    if unit.level != "station":
        raise ValidationFailed(details={"station_id": "服务项目只能设在服务站"})
    return unit


def _int(values, errors, key, label, low, high):
    raw = str(values.get(key, "")).strip()
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 6 or not low <= int(raw) <= high:
        errors[key] = f"{label}须为{low}至{high}之间的整数"
        return None
    return int(raw)


def _text(values, errors, key, label, limit, required=False):
    value = str(values.get(key) or "").strip()
    if required and not value:
        errors[key] = f"请填写{label}"
    elif len(value) > limit:
        errors[key] = f"{label}不能超过{limit}个字"
    return value or None


def _normalise(text):
    """A period as typed: full-width colon and dashes (中文输入法) and spaces allowed."""
    return str(text).strip().replace("—", "-").replace("－", "-").replace("~", "-").replace("：", ":").replace(" ", "")


def parse_plan(raw, slot_minutes, errors):
    """{weekday: ["HH:MM-HH:MM", …]} -> {weekday: [[start, end], …]}, errors under "plan-<weekday>"."""
    plan = {}
    for day, label in WEEKDAYS.items():
        texts = [_normalise(t) for t in (raw or {}).get(day, [])]
        texts = [t for t in texts if t]
        periods = []
        for text in texts:
            match = _PERIOD.match(text)
            if not match:
                errors[f"plan-{day}"] = f"{label}的时段“{text[:20]}”格式应为 09:00-12:00"
                break
            periods.append([text[:5], text[6:]])
        else:
            periods.sort()
            if len(periods) > MAX_PERIODS:
                errors[f"plan-{day}"] = f"{label}最多{MAX_PERIODS}个时段"
            elif any(start >= end for start, end in periods):
                errors[f"plan-{day}"] = f"{label}的时段结束时间须晚于开始时间"
            elif any(periods[i][1] > periods[i + 1][0] for i in range(len(periods) - 1)):
                errors[f"plan-{day}"] = f"{label}的时段不能重叠"
            elif slot_minutes and any(
                slots._minutes(end) - slots._minutes(start) < slot_minutes for start, end in periods
            ):
                errors[f"plan-{day}"] = f"{label}有时段短于每个号源的时长（{slot_minutes}分钟）"
        plan[day] = periods
    if not errors and not any(plan.values()):
        errors["plan"] = "请至少填写一个开放时段"
    return plan


def _clean(values):
    """Check the form's values; return the model fields or raise ValidationFailed with a Chinese message per field."""
    errors = {}
    max_ahead = current_app.config["BOOKING_MAX_AHEAD_DAYS"]
    fields = {
        "name": _text(values, errors, "name", "服务名称", 50, required=True),
        "description": _text(values, errors, "description", "服务说明", 500),
        "materials": _text(values, errors, "materials", "材料清单", 2000),
        "location": _text(values, errors, "location", "办理地点", 200),
        "slot_minutes": _int(values, errors, "slot_minutes", "每个号源时长（分钟）", 5, 480),
        "capacity": _int(values, errors, "capacity", "每个号源可约人数", 1, 500),
        "book_ahead_days": _int(values, errors, "book_ahead_days", "可提前预约天数", 1, max_ahead),
        "cutoff_minutes": _int(values, errors, "cutoff_minutes", "取消或改约截止（分钟）", 0, 10080),
    }
    if fields["materials"]:
        fields["materials"] = "\n".join(line.strip() for line in fields["materials"].splitlines() if line.strip())
    fields["plan"] = parse_plan(values.get("plan"), fields["slot_minutes"], errors)
    if errors:
        raise ValidationFailed(details=errors)
    return fields


def _name_taken(station_id, name, service_id=None):
    query = select(BookingService.id).where(
        BookingService.station_id == station_id, BookingService.name == name, BookingService.active.is_(True)
    )
    if service_id is not None:
        query = query.where(BookingService.id != service_id)
    return db.session.scalar(query) is not None


def create_service(*, actor, station_id, values):
    """Add a service to a station in scope. `values`: the form's fields (see FIELDS; plan as {weekday: [texts]}).

    :raises PermissionDenied, OrgUnitNotFound, ValidationFailed
    """
    with transaction():
        station = _station(actor, station_id)
        fields = _clean(values)
        if _name_taken(station.id, fields["name"]):
            raise ValidationFailed(details={"name": "本站已有同名服务"})
        service = BookingService(station_id=station.id, active=True, **fields)
        db.session.add(service)
        db.session.flush()
        _audit(actor, "bookings.service_create", service)
        slots.reconcile(service)
    return service


def update_service(*, actor, service_id, version, values):
    """Save a service's fields and plan if nobody changed it since `version`; reconcile its future slots.

    :raises ServiceNotFound, StaleUpdate, ValidationFailed
    """
    with transaction():
        service = get_service(actor=actor, service_id=service_id, lock=True)
        require_permission(actor, "bookings.manage")
        _check_version(service, version)
        fields = _clean(values)
        if service.active and _name_taken(service.station_id, fields["name"], service.id):
            raise ValidationFailed(details={"name": "本站已有同名服务"})
        for key, value in fields.items():
            setattr(service, key, value)
        db.session.flush()
        _audit(actor, "bookings.service_update", service)
        slots.reconcile(service)
    return service


def deactivate_service(*, actor, service_id, version):
    """Stop offering a service: its free future slots are withdrawn, booked ones are listed for the station.

    :raises ServiceNotFound, StaleUpdate
    """
    with transaction():
        service = get_service(actor=actor, service_id=service_id, lock=True)
        require_permission(actor, "bookings.manage")
        _check_version(service, version)
        service.active = False
        db.session.flush()
        _audit(actor, "bookings.service_deactivate", service)
        slots.reconcile(service)
    return service


def add_default_services(*, actor, station_id):
    """「添加常用服务」: the six usual services with the default plan, for a station that has no service yet.
    Returns the services created (none when the station already has some)."""
    created = []
    with transaction():
        station = _station(actor, station_id)
        if db.session.scalar(select(BookingService.id).where(BookingService.station_id == station.id).limit(1)):
            return created
        for name, description, materials in DEFAULT_SERVICES:
            service = BookingService(
                station_id=station.id, name=name, description=description, materials=materials or None,
                plan=DEFAULT_PLAN, slot_minutes=30, capacity=5, book_ahead_days=14, cutoff_minutes=120, active=True,
            )  # fmt: skip
            db.session.add(service)
            created.append(service)
        db.session.flush()
        audit_service.record(
            actor=actor,
            action="bookings.services_default",
            object_type="org_unit",
            object_id=station.id,
            details={"services": [s.id for s in created]},
        )
        for service in created:
            slots.reconcile(service)
    return created


def _check_version(service, version):
    try:
        expected = int(version)
    except (TypeError, ValueError):
        expected = None
    if expected != service.version_id:
        raise StaleUpdate()


def _audit(actor, action, service):
    audit_service.record(
        actor=actor,
        action=action,
        object_type="booking_service",
        object_id=service.id,
        details={"station_id": service.station_id, "name": service.name, "active": service.active},
    )


def plan_texts(plan):
    """{weekday: ["HH:MM-HH:MM", …]} for the form, from a stored plan."""
    return {day: [f"{start}-{end}" for start, end in (plan or {}).get(day, [])] for day in WEEKDAYS}
