"""Veteran records: create, edit, move between stations and grids, reveal. Every write is scoped and audited."""

from datetime import date

from sqlalchemy import select

from backend import pii
from backend.audit import service as audit_service
from backend.db import transaction
from backend.errors import NotFound, RuleViolation, ValidationFailed
from backend.extensions import db
from backend.names import clean_name
from backend.orgs.models import OrgUnit
from backend.orgs.scope import get_scoped, in_scope, require_permission
from backend.veterans.identity import normalize_mobile, parse_id_number
from backend.veterans.models import ID_CONTEXT, PHONE_CONTEXT, STATUS_LABELS, Veteran, VeteranHistory


def _today_cst():
    """Today in China Standard Time: a placement dated today (CST) is never 'in the future' before 08:00 CST."""
    from backend.registration.windows import today_cst

    return today_cst()


EDITABLE = ("name", "id_number", "phone", "address", "grid_worker", "placement_date", "party_member", "status")


class VeteranNotFound(NotFound):
    code = "veterans.not_found"
    message = "未找到该退役军人"


class IdNumberTaken(RuleViolation):
    code = "veterans.id_number_taken"
    message = "该身份证号码已登记，请勿重复录入"


class InvalidUnit(ValidationFailed):
    code = "veterans.invalid_unit"
    message = "请选择管辖范围内的服务站和其下属网格"


def id_index(number):
    return pii.blind_index(number, context=ID_CONTEXT)


def phone_index(number):
    return pii.blind_index(number, context=PHONE_CONTEXT)


def _same(stored, value, context):
    """The stored index is `value`'s, under whichever key version it was written (issue 15)."""
    return stored is None if value is None else pii.index_matches(stored, value, context=context)


def resolve_units(actor, station_id, grid_id=None):
    """The (station, grid) pair for a veteran, both in the actor's subtree and the grid under the station.

    :raises InvalidUnit:
    """
    station = db.session.get(OrgUnit, station_id) if station_id else None
    if station is None or station.level != "station" or not in_scope(actor, station):
        raise InvalidUnit(details={"station_id": InvalidUnit.message})
    grid = None
    if grid_id:
        grid = db.session.get(OrgUnit, grid_id)
        if grid is None or grid.parent_id != station.id or not in_scope(actor, grid):
            raise InvalidUnit(details={"grid_id": "所选网格不属于该服务站"})
    return station, grid


def clean_fields(fields):
    """Validate and normalize editable fields; returns a dict ready to apply. :raises ValidationFailed:"""
    out, errors, specific = {}, {}, []
    if "name" in fields:
        name = clean_name(fields["name"])
        if not name or len(name) > 64:
            errors["name"] = "姓名不能为空，且不超过64个字"
        out["name"] = name
    if "id_number" in fields:
        try:
            out["id_info"] = parse_id_number(fields["id_number"])
        except ValidationFailed as error:
            errors.update(error.details)
            specific.append(error)
    if "phone" in fields:
        if fields["phone"] in (None, ""):
            out["phone"] = None
        else:
            try:
                out["phone"] = normalize_mobile(fields["phone"])
            except ValidationFailed as error:
                errors.update(error.details)
                specific.append(error)
    for key, limit in (("address", 200), ("grid_worker", 64)):
        if key in fields:
            value = clean_name(fields[key]) or None
            if value and len(value) > limit:
                errors[key] = f"不超过{limit}个字"
            out[key] = value
    if "placement_date" in fields:
        value = fields["placement_date"]
        if value and (not isinstance(value, date) or value > _today_cst()):
            errors["placement_date"] = "安置日期不能晚于今天"
        out["placement_date"] = value or None
    if "party_member" in fields:
        out["party_member"] = bool(fields["party_member"])
    if "status" in fields:
        if fields["status"] not in STATUS_LABELS:
            errors["status"] = "状态无效"
        out["status"] = fields["status"]
    if len(errors) == 1 and len(specific) == 1:
        raise specific[0]  # one problem with its own code (veterans.invalid_mobile, ...)
    if errors:
        raise ValidationFailed(details=errors)
    return out


def apply_fields(veteran, cleaned):
    changed = []
    info = cleaned.pop("id_info", None)
    if info is not None and not _same(veteran.id_number_hmac, info.number, ID_CONTEXT):
        veteran.id_number_enc = pii.encrypt(info.number, context=ID_CONTEXT)
        veteran.id_number_hmac = id_index(info.number)
        veteran.birth_date, veteran.gender = info.birth_date, info.gender
        changed.append("id_number")
    if "phone" in cleaned:
        phone = cleaned.pop("phone")
        if not _same(veteran.phone_hmac, phone, PHONE_CONTEXT):
            veteran.phone_enc = pii.encrypt(phone, context=PHONE_CONTEXT)
            veteran.phone_hmac = phone_index(phone)
            changed.append("phone")
    for key, value in cleaned.items():
        if getattr(veteran, key) != value:
            setattr(veteran, key, value)
            changed.append(key)
    return changed


def _ensure_unique_id(number, exclude_id=None):
    query = select(Veteran.id).where(pii.index_in(Veteran.id_number_hmac, number, context=ID_CONTEXT))
    if exclude_id:
        query = query.where(Veteran.id != exclude_id)
    if db.session.scalar(query):
        raise IdNumberTaken(details={"id_number": IdNumberTaken.message})


def add_history(veteran, actor, action, details=None, channel="portal"):
    db.session.add(
        VeteranHistory(
            veteran_id=veteran.id,
            actor_id=getattr(actor, "id", None),
            channel=channel,
            action=action,
            details=details or {},
        )
    )


def build_veteran(*, actor, fields, station_id, grid_id=None, channel="portal"):
    """Validate and add a new veteran to the session (no commit): shared by create_veteran and the importer."""
    cleaned = clean_fields(fields)
    if "id_info" not in cleaned or "name" not in cleaned:
        raise ValidationFailed(details={"id_number": "请填写身份证号码", "name": "请填写姓名"})
    station, grid = resolve_units(actor, station_id, grid_id)
    _ensure_unique_id(cleaned["id_info"].number)
    veteran = Veteran()
    veteran.place(station, grid)
    apply_fields(veteran, cleaned)
    db.session.add(veteran)
    db.session.flush()
    add_history(veteran, actor, "created", {"station_id": station.id, "grid_id": veteran.grid_id}, channel)
    return veteran


def create_veteran(*, actor, station_id, grid_id=None, **fields):
    """Register a veteran at a station (and grid) in the actor's subtree.

    :raises PermissionDenied, ValidationFailed (InvalidIdNumber, InvalidMobile, InvalidUnit), IdNumberTaken
    """
    require_permission(actor, "veterans.edit")
    with transaction():
        veteran = build_veteran(actor=actor, fields=fields, station_id=station_id, grid_id=grid_id)
        audit_service.record(actor=actor, action="veterans.create", object_type="veteran", object_id=veteran.id)
        if veteran.party_member:
            _sync_party(actor, veteran)
    return veteran


def get_veteran(*, actor, veteran_id, permission="veterans.view", lock=False):
    """A veteran in the actor's subtree. :raises PermissionDenied, VeteranNotFound:"""
    require_permission(actor, permission)
    return get_scoped(
        Veteran, veteran_id, actor=actor, unit_column=Veteran.unit_id, not_found=VeteranNotFound, lock=lock
    )


def update_veteran(*, actor, veteran_id, **fields):
    """Edit a veteran's fields (only those in EDITABLE; anything else is ignored, never written).

    :raises PermissionDenied, VeteranNotFound, ValidationFailed, IdNumberTaken
    """
    fields = {k: v for k, v in fields.items() if k in EDITABLE}
    cleaned = clean_fields(fields)
    with transaction():
        veteran = get_veteran(actor=actor, veteran_id=veteran_id, permission="veterans.edit", lock=True)
        if "id_info" in cleaned:
            _ensure_unique_id(cleaned["id_info"].number, exclude_id=veteran.id)
        changed = apply_fields(veteran, cleaned)
        if changed:
            add_history(veteran, actor, "updated", {"fields": changed})
            audit_service.record(
                actor=actor,
                action="veterans.update",
                object_type="veteran",
                object_id=veteran.id,
                details={"fields": changed},
            )
        if "party_member" in cleaned:
            _sync_party(actor, veteran)
    return veteran


def _sync_party(actor, veteran):
    """The party membership row follows the flag (backend/party/service.py owns it)."""
    from backend.party.service import sync_flag  # party imports this module

    sync_flag(actor=actor, veteran=veteran, member=veteran.party_member)


def move_veteran(*, actor, veteran_id, station_id, grid_id=None):
    """Move a veteran to another station/grid; both ends must lie in the actor's subtree.

    :raises PermissionDenied, VeteranNotFound, InvalidUnit
    """
    with transaction():
        veteran = get_veteran(actor=actor, veteran_id=veteran_id, permission="veterans.edit", lock=True)
        station, grid = resolve_units(actor, station_id, grid_id)
        before = {"station_id": veteran.station_id, "grid_id": veteran.grid_id}
        after = {"station_id": station.id, "grid_id": grid.id if grid else None}
        if before != after:
            veteran.place(station, grid)
            _carry_records(veteran)
            add_history(veteran, actor, "moved", {"from": before, "to": after})
            audit_service.record(
                actor=actor,
                action="veterans.move",
                object_type="veteran",
                object_id=veteran.id,
                details={"from": before, "to": after},
            )
    return veteran


def _carry_records(veteran):
    """Records scoped by the veteran's unit follow the veteran to the new station (the old one loses sight)."""
    from sqlalchemy import update

    from backend.registration.models import Registration
    from backend.travel.models import Trip

    for model in (Registration, Trip):
        db.session.execute(
            update(model)
            .where(model.veteran_id == veteran.id)
            .values(unit_id=veteran.unit_id)
            .execution_options(synchronize_session=False)
        )
    _carry_station_records(veteran)


def _carry_station_records(veteran):
    """Records scoped by station_id: the onboarding case and its steps, the archive and its requests, awards and the
    chronicle entry (issue 17), the pay profile (issue 18; payroll lines are history and stay), party rows and the
    current employment record (issue 19). The permanent archive log keeps its station_id (the database refuses
    updates); its search scopes through the archive instead (backend/archives/log.py)."""
    from sqlalchemy import update

    from backend.archives.models import Archive, ArchiveRequest
    from backend.employment.models import EmploymentRecord
    from backend.honors.models import Award, ChronicleEntry
    from backend.onboarding.models import OnboardingCase, OnboardingStep
    from backend.party.models import PartyEvaluation, PartyMembership, PartyTransfer
    from backend.pension.models import PayProfile

    cases = select(OnboardingCase.id).where(OnboardingCase.veteran_id == veteran.id)
    archives = select(Archive.id).where(Archive.veteran_id == veteran.id)
    for model, condition in (
        (OnboardingCase, OnboardingCase.veteran_id == veteran.id),
        (OnboardingStep, OnboardingStep.case_id.in_(cases)),
        (Archive, Archive.veteran_id == veteran.id),
        (ArchiveRequest, ArchiveRequest.archive_id.in_(archives)),
        (Award, Award.veteran_id == veteran.id),
        (ChronicleEntry, ChronicleEntry.veteran_id == veteran.id),
        (PayProfile, PayProfile.veteran_id == veteran.id),
        (PartyMembership, PartyMembership.veteran_id == veteran.id),
        (PartyTransfer, PartyTransfer.veteran_id == veteran.id),
        (PartyEvaluation, PartyEvaluation.veteran_id == veteran.id),
        (EmploymentRecord, (EmploymentRecord.veteran_id == veteran.id) & EmploymentRecord.until.is_(None)),
    ):
        db.session.execute(
            update(model)
            .where(condition)
            .values(station_id=veteran.station_id)
            .execution_options(synchronize_session=False)
        )


def reveal_veteran(*, actor, veteran_id):
    """The full ID number and phone, for staff with veterans.reveal in scope; one audit row per reveal.

    :returns: {"id_number": ..., "phone": ...}
    :raises PermissionDenied, VeteranNotFound
    """
    with transaction():
        veteran = get_veteran(actor=actor, veteran_id=veteran_id, permission="veterans.reveal")
        audit_service.record(actor=actor, action="veterans.reveal", object_type="veteran", object_id=veteran.id)
    return {"id_number": veteran.id_number, "phone": veteran.phone}


def list_history(*, actor, veteran_id):
    veteran = get_veteran(actor=actor, veteran_id=veteran_id)
    return db.session.scalars(
        select(VeteranHistory).where(VeteranHistory.veteran_id == veteran.id).order_by(VeteranHistory.id.desc())
    ).all()
