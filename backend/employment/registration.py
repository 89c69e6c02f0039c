"""The annual registration's employment section (issue 19): it prefills from the current employment record (falling
back to last year's answer), and an approved form whose answer differs from the record updates it (a new record with
source "registration")."""

from backend.audit import service as audit_service
from backend.employment.service import append_record, current_record
from backend.registration.windows import today_cst
from backend.staff.models import Staff


def prefill_section(veteran_id):
    """{"status", "employer"} from the current record, or None when the veteran has none."""
    record = current_record(veteran_id)
    if record is None:
        return None
    return {"status": record.status, "employer": record.employer or ""}


def on_approved(reg, veteran, actor):
    """Called in the approval's transaction: update the record when the approved answer differs from it."""
    answer = (reg.content or {}).get("employment") or {}
    status = answer.get("status")
    if not status:
        return None
    employer = (answer.get("employer") or "").strip()
    current = current_record(veteran.id)
    if current is not None and current.status == status and (current.employer or "") == employer:
        return None
    working = status in ("employed", "self_employed")
    record = append_record(
        veteran,
        status=status,
        employer=employer or None,
        since=today_cst(),
        # the employer's liaison stays with the employer it was given for
        liaison_name=current.liaison_name if working and current and current.employer == employer else None,
        source="registration",
        recorded_by_id=actor.id if isinstance(actor, Staff) else None,
    )
    if current is not None and record.liaison_name and current.liaison_phone_enc:
        record.liaison_phone_enc = current.liaison_phone_enc
    audit_service.record(
        actor=actor,
        action="employment.status_from_registration",
        object_type="employment_record",
        object_id=record.id,
        org_path=veteran.unit_path,
        details={"veteran_id": veteran.id, "registration_id": reg.id, "status": status},
    )
    return record
