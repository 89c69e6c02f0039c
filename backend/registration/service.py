"""The veteran's side of the annual registration, and on-site entry by station staff.

States: draft -> submitted -> approved | returned -> (corrected) submitted ...; overdue when the window closes with
nothing submitted. The phone may save and submit only while the window is open; a returned registration may be
corrected and resubmitted until the end of the year (it was submitted in time). Staff may enter and submit on-site
at any time in the year, which is how overdue veterans are followed up.
"""

from sqlalchemy import select

from backend.audit import service as audit_service
from backend.db import after_commit, transaction, utcnow
from backend.errors import NotFound, RuleViolation, ValidationFailed
from backend.extensions import db
from backend.orgs.scope import require_permission
from backend.registration import content as forms
from backend.registration.models import Registration, RegistrationEvent
from backend.registration.windows import today_cst, window_for
from backend.veterans import service as veterans_service


class WindowClosed(RuleViolation):
    code = "registration.window_closed"
    message = "本年度确认登记不在办理时间内"


class Incomplete(ValidationFailed):
    code = "registration.incomplete"
    message = "还有未填写的登记项"


class NotEditable(RuleViolation):
    code = "registration.not_editable"
    message = "登记已提交或已通过，当前不能修改"


class RegistrationNotFound(NotFound):
    code = "registration.not_found"
    message = "未找到该登记"


def timeline(reg, *, actor, action, channel, details=None):
    kind = getattr(actor, "actor_type", "system")
    db.session.add(
        RegistrationEvent(
            registration_id=reg.id,
            actor_type=kind,
            actor_id=getattr(actor, "id", None),
            actor_label=getattr(actor, "username", None) or getattr(actor, "label", None),
            channel=channel,
            action=action,
            details=details or {},
        )
    )
    audit_service.record(
        actor=actor,
        action=f"registration.{action}",
        object_type="registration",
        object_id=reg.id,
        org_path=reg.veteran.station.path,
        details=details or {},
    )


def find_registration(veteran_id, year, lock=False):
    query = select(Registration).where(Registration.veteran_id == veteran_id, Registration.year == year)
    if lock:
        query = query.with_for_update(of=Registration)
    return db.session.scalars(query).first()


def last_approved(veteran_id, before_year):
    return db.session.scalars(
        select(Registration)
        .where(
            Registration.veteran_id == veteran_id, Registration.year < before_year, Registration.status == "approved"
        )
        .order_by(Registration.year.desc())
        .limit(1)
    ).first()


def current_view(*, veteran, now=None):
    """This year's registration as the phone shows it: window, state, content (prefilled), what to correct."""
    today = today_cst(now)
    window = window_for(today.year, veteran.grid or veteran.station)
    reg = find_registration(veteran.id, today.year)
    previous = last_approved(veteran.id, today.year)
    content = (
        reg.content
        if reg
        else forms.prefill(previous.content if previous else None, veteran, _trips(veteran, today.year))
    )
    status = reg.status if reg else ("not_started" if window.is_open(today) or today < window.opens_on else "overdue")
    return {
        "year": today.year,
        "window": window.to_dict(),
        "window_open": window.is_open(today),
        "status": status,
        "registration_id": reg.id if reg else None,
        "form_version": forms.FORM_VERSION,
        "content": content,
        "return_reasons": reg.return_reasons if reg and reg.status == "returned" else {},
        "sections": forms.SECTIONS,
        "submitted_at": reg.submitted_at if reg else None,
        "prefilled_from_year": previous.year if previous and not reg else None,
        "attachments": _attachments(reg),
    }


def _attachments(reg):
    if reg is None:
        return []
    from backend.registration.attachments import list_attachments

    return list_attachments(reg.id)


def _trips(veteran, year):
    from backend.travel.service import trips_for_registration

    return trips_for_registration(veteran.id, year)


def _editable_sections(reg):
    if reg is None or reg.status == "draft":
        return None  # every section
    if reg.status == "returned":
        return set(reg.return_reasons)  # only what staff asked to correct
    raise NotEditable(details={"status": reg.status})


def _ensure_open_for(reg, veteran, today):
    if reg is not None and reg.status == "returned":
        return
    window = window_for(today.year, veteran.grid or veteran.station)
    if not window.is_open(today):
        raise WindowClosed(details={"opens_on": window.opens_on.isoformat(), "closes_on": window.closes_on.isoformat()})


def _new_registration(veteran, year, channel, entered_by=None):
    previous = last_approved(veteran.id, year)
    reg = Registration(
        veteran_id=veteran.id,
        unit_id=veteran.unit_id,
        year=year,
        status="draft",
        form_version=forms.FORM_VERSION,
        content=forms.prefill(previous.content if previous else None, veteran, _trips(veteran, year)),
        channel=channel,
        entered_by_id=getattr(entered_by, "id", None),
        return_reasons={},
    )
    db.session.add(reg)
    db.session.flush()
    return reg


def save_draft(*, account, content, now=None):
    """Save the veteran's draft (sections present replace the saved ones).

    :raises WindowClosed, NotEditable, ValidationFailed
    """
    veteran = account.veteran
    today = today_cst(now)
    with transaction():
        reg = find_registration(veteran.id, today.year, lock=True)
        _ensure_open_for(reg, veteran, today)
        cleaned = forms.clean_content(content, only=_editable_sections(reg))
        if reg is None:
            reg = _new_registration(veteran, today.year, "online")
            timeline(reg, actor=account, action="draft_created", channel="online")
        reg.content = {**reg.content, **cleaned}
    return reg


def submit(*, account, now=None):
    """Submit (or resubmit after correction). :raises WindowClosed, NotEditable, Incomplete:"""
    veteran = account.veteran
    today = today_cst(now)
    with transaction():
        reg = find_registration(veteran.id, today.year, lock=True)
        _ensure_open_for(reg, veteran, today)
        if reg is None:
            raise Incomplete(details=forms.missing_sections({}))
        _submit(reg, actor=account, channel="online")
    return reg


def _submit(reg, *, actor, channel):
    if reg.status not in ("draft", "returned", "overdue"):
        raise NotEditable(details={"status": reg.status})
    missing = forms.missing_sections(reg.content)
    if missing:
        raise Incomplete(details=missing)
    resubmission = reg.status == "returned"
    reg.status, reg.submitted_at = "submitted", utcnow()
    reg.first_submitted_at = reg.first_submitted_at or reg.submitted_at
    reg.return_reasons = {}
    timeline(reg, actor=actor, action="resubmitted" if resubmission else "submitted", channel=channel)


def delete_draft(*, account, now=None):
    """Delete an unsubmitted draft. :raises RegistrationNotFound, NotEditable:"""
    with transaction():
        reg = find_registration(account.veteran.id, today_cst(now).year, lock=True)
        if reg is None:
            raise RegistrationNotFound()
        if reg.status != "draft":
            raise NotEditable(details={"status": reg.status})
        audit_service.record(
            actor=account,
            action="registration.draft_deleted",
            object_type="registration",
            object_id=reg.id,
            org_path=reg.veteran.station.path,
        )
        from backend.registration.attachments import list_attachments, storage_dir

        for attachment in list_attachments(reg.id):  # the files go once the rows are gone
            after_commit((storage_dir() / attachment.stored_name).unlink, missing_ok=True)
        db.session.delete(reg)


def history(*, veteran):
    return db.session.scalars(
        select(Registration).where(Registration.veteran_id == veteran.id).order_by(Registration.year.desc())
    ).all()


def enter_onsite(*, actor, veteran_id, content, submit_now=False, now=None):
    """Station staff enter or complete a veteran's registration at the counter (channel "onsite").

    :raises PermissionDenied, VeteranNotFound, NotEditable, ValidationFailed, Incomplete
    """
    require_permission(actor, "registration.enter")
    today = today_cst(now)
    with transaction():
        veteran = veterans_service.get_veteran(actor=actor, veteran_id=veteran_id)
        reg = find_registration(veteran.id, today.year, lock=True)
        only = None if reg is None or reg.status in ("draft", "overdue") else _editable_sections(reg)
        cleaned = forms.clean_content(content, only=only)
        if reg is None:
            reg = _new_registration(veteran, today.year, "onsite", entered_by=actor)
            timeline(reg, actor=actor, action="draft_created", channel="onsite")
        reg.content = {**reg.content, **cleaned}
        reg.channel, reg.entered_by_id = "onsite", actor.id
        if submit_now:
            _submit(reg, actor=actor, channel="onsite")
    return reg


def list_events(reg):
    """The registration's timeline, oldest first (callers have already checked access to `reg`)."""
    return db.session.scalars(
        select(RegistrationEvent).where(RegistrationEvent.registration_id == reg.id).order_by(RegistrationEvent.id)
    ).all()
