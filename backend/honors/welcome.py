"""The welcome ceremony at reception (Art. 7 and 11): a Ceremony of kind "welcome" organised by the veteran's station,
linked from the onboarding case, whose "welcome_ceremony" step it completes. It shows in the honors ceremony lists
like any other ceremony."""

from datetime import UTC, datetime, timedelta

from backend.audit import service as audit_service
from backend.db import transaction
from backend.errors import ValidationFailed
from backend.extensions import db
from backend.honors.models import Ceremony
from backend.onboarding import links
from backend.orgs.models import OrgUnit
from backend.orgs.scope import require_permission
from backend.registration.windows import CST

TITLE = "欢迎仪式"
EARLIEST_DAYS = 366  # a welcome ceremony is held around the arrival, not more than a year before it


def _clean(held_at, place, attendees, note, arrived_on=None):
    errors = {}
    if not isinstance(held_at, datetime) or held_at.tzinfo is None:
        errors["held_at"] = "请填写仪式时间"
    elif held_at.year < 2000 or held_at.year > 2100:  # before any comparison: year 1 in CST overflows in UTC
        errors["held_at"] = "仪式时间不正确"
    elif arrived_on is not None and held_at.astimezone(CST).date() < arrived_on - timedelta(days=EARLIEST_DAYS):
        errors["held_at"] = "仪式时间不能早于报到日期一年以上"
    elif held_at > datetime.now(UTC):
        errors["held_at"] = "仪式举行后再登记（时间不能晚于现在）"
    place = (place or "").strip()
    if not place or len(place) > 100:
        errors["place"] = "请填写仪式地点（不超过100个字）"
    attendees = (attendees or "").strip()
    if not attendees or len(attendees) > 500:
        errors["attendees"] = "请填写出席人员（不超过500个字）"
    note = (note or "").strip() or None
    if note and len(note) > 500:
        errors["note"] = "备注不超过500个字"
    if errors:
        raise ValidationFailed(details=errors)
    return place, attendees, note


def record_welcome(*, actor, case, held_at, place, attendees, note=None):
    """Create the welcome Ceremony of an onboarding case (already read in the actor's scope), link it, and complete
    the case's "welcome_ceremony" step on the ceremony's CST date. Returns the Ceremony.

    :raises PermissionDenied, ValidationFailed:
    """
    require_permission(actor, "onboarding.manage")
    place, attendees, note = _clean(held_at, place, attendees, note, case.arrived_on)
    with transaction():
        ceremony = Ceremony(
            unit_id=case.station_id,
            kind="welcome",
            title=TITLE,
            held_at=held_at,
            place=place,
            attendees=attendees,
            note=note,
            created_by_id=actor.id,
        )
        db.session.add(ceremony)
        db.session.flush()
        case.ceremony_id = ceremony.id
        station = db.session.get(OrgUnit, case.station_id)
        audit_service.record(
            actor=actor,
            action="honors.welcome_recorded",
            object_type="ceremony",
            object_id=ceremony.id,
            org_path=station.path if station else None,
            details={"onboarding_case_id": case.id},
        )
        links.step_done_elsewhere(
            actor=actor,
            veteran_id=case.veteran_id,
            step="welcome_ceremony",
            done_on=held_at.astimezone(CST).date(),
            note=f"欢迎仪式：{place}",
        )
        db.session.flush()
    return ceremony
