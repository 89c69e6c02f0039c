"""The veteran's side of the annual registration, and on-site entry by station staff.

States: draft -> submitted -> approved | returned -> (corrected) submitted ...; overdue when the window closes with
nothing submitted. The phone may save and submit only while the window is open; a returned registration may be
corrected and resubmitted until the end of the year (it was submitted in time). An overdue registration is caught up
like a draft: on the phone while a window extended for the veteran's unit is open (Art. 9 follow-up), on-site at any
time in the year. One registration per veteran and year: concurrent first writes all end on the same row.
"""

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import lazyload

from backend import pii
from backend.audit import service as audit_service
from backend.db import after_commit, transaction, utcnow
from backend.errors import NotFound, RuleViolation, ValidationFailed
from backend.extensions import db
from backend.orgs.scope import require_permission
from backend.registration import content as forms
from backend.registration.models import CONTENT_CONTEXT, Registration, RegistrationEvent
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


LOCKED_MESSAGE = "退回补正时只能修改被退回的登记项"
LOCKED_SECTION = "该项未被退回，不能修改"


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


def find_registration(veteran_id, year, lock=False, with_veteran=True):
    """This year's row of the veteran, or None. `with_veteran=False` when the caller holds the veteran already (the
    phone's read): the row comes alone, without the joined veteran and its two units."""
    query = select(Registration).where(Registration.veteran_id == veteran_id, Registration.year == year)
    if not with_veteran:
        query = query.options(lazyload(Registration.veteran))
    if lock:
        query = query.with_for_update(of=Registration)
    return db.session.scalars(query).first()


def last_approved(veteran_id, before_year):
    return db.session.scalars(
        select(Registration)
        .options(lazyload(Registration.veteran))  # read for its answers only
        .where(
            Registration.veteran_id == veteran_id, Registration.year < before_year, Registration.status == "approved"
        )
        .order_by(Registration.year.desc())
        .limit(1)
    ).first()


def _blank(reg):
    """No answers saved yet: no row, or the empty row the overdue job made."""
    return reg is None or (reg.status == "overdue" and not reg.content)


_UNREAD = object()


def working_content(veteran, reg, year, previous=_UNREAD):
    """The answers a form starts from: those saved, or before anything was saved, last year's approved answers, the
    record's contact details and this year's travel reports (the same prefill for the phone and on-site).
    `previous`: last_approved() when the caller has read it already."""
    if not _blank(reg):
        return reg.content
    if previous is _UNREAD:
        previous = last_approved(veteran.id, year)
    return forms.prefill(previous.content if previous else None, veteran, _trips(veteran, year))


def current_view(*, veteran, now=None):
    """This year's registration as the phone shows it: window, state, content (prefilled), what to correct."""
    today = today_cst(now)
    window = window_for(today.year, veteran.grid or veteran.station)
    reg = find_registration(veteran.id, today.year, with_veteran=False)
    previous = last_approved(veteran.id, today.year) if _blank(reg) else None  # only a blank form is prefilled
    window_open = window.is_open(today)
    status = reg.status if reg else ("not_started" if window_open or today < window.opens_on else "overdue")
    return {
        "year": today.year,
        "window": window.to_dict(),
        "window_open": window_open,
        "status": status,
        "editable": status == "returned" or (window_open and status in ("not_started", "draft", "overdue")),
        "registration_id": reg.id if reg else None,
        "form_version": forms.FORM_VERSION,
        "content": working_content(veteran, reg, today.year, previous),
        "return_reasons": reg.return_reasons if reg and reg.status == "returned" else {},
        "sections": forms.SECTIONS,
        "submitted_at": reg.submitted_at if reg else None,
        "prefilled_from_year": previous.year if previous else None,
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
    """None when every section may change (no row yet, a draft, an overdue registration being caught up), the
    reopened sections of a returned one. :raises NotEditable: when submitted or approved"""
    if reg is None or reg.status in ("draft", "overdue"):
        return None
    if reg.status == "returned":
        return set(reg.return_reasons)  # only what staff asked to correct
    raise NotEditable(details={"status": reg.status})


def require_section_editable(reg, section):
    """:raises NotEditable: unless `section` of `reg` may change now."""
    only = _editable_sections(reg)
    if only is not None and section not in only:
        raise NotEditable(LOCKED_MESSAGE, details={section: LOCKED_SECTION})


def _clean_for(reg, content):
    """Validate `content` (422 for unknown or malformed sections) against what `reg` lets change: a section a return
    did not reopen is refused with 409 not_editable, unless it is sent back unchanged (forms post every section)."""
    only = _editable_sections(reg)
    cleaned = forms.clean_content(content)
    if only is None:
        return cleaned
    saved = reg.content
    locked = {name: LOCKED_SECTION for name, value in cleaned.items() if name not in only and value != saved.get(name)}
    if locked:
        raise NotEditable(LOCKED_MESSAGE, details=locked)
    return {name: value for name, value in cleaned.items() if name in only}


def _ensure_open_for(reg, veteran, today):
    if reg is not None and reg.status == "returned":
        return
    window = window_for(today.year, veteran.grid or veteran.station)
    if not window.is_open(today):
        raise WindowClosed(details={"opens_on": window.opens_on.isoformat(), "closes_on": window.closes_on.isoformat()})


def insert_once(values):
    """INSERT a registration unless the veteran already has one for the year. Returns the new id, or None when a
    concurrent transaction got there first (it waits for that one to commit; never a unique violation)."""
    dialect = db.session.get_bind().dialect.name
    if dialect in ("postgresql", "sqlite"):
        insert = (postgresql if dialect == "postgresql" else sqlite).insert
        statement = (
            insert(Registration)
            .values(**values)
            .on_conflict_do_nothing(index_elements=["veteran_id", "year"])
            .returning(Registration.id)
        )
        return db.session.execute(statement).scalar()
    try:  # other engines: catch the conflict in a savepoint
        with db.session.begin_nested():
            reg = Registration(**values)
            db.session.add(reg)
        return reg.id
    except IntegrityError:
        return None


def get_or_create_draft(veteran, year, *, actor, channel):
    """This year's registration, locked; created as a prefilled draft when there is none. Concurrent first saves,
    uploads and on-site entries all end on the one row, and only the one that created it records the creation."""
    reg = find_registration(veteran.id, year, lock=True)
    if reg is not None:
        return reg
    created = insert_once(
        {
            "veteran_id": veteran.id,
            "unit_id": veteran.unit_id,
            "year": year,
            "status": "draft",
            "form_version": forms.FORM_VERSION,
            "content_sealed": pii.encrypt_json(working_content(veteran, None, year), context=CONTENT_CONTEXT),
            "channel": channel,
            "entered_by_id": actor.id if channel == "onsite" else None,
            "return_reasons": {},
        }
    )
    reg = find_registration(veteran.id, year, lock=True)
    if created is not None:
        timeline(reg, actor=actor, action="draft_created", channel=channel)
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
        cleaned = _clean_for(reg, content)  # refuse bad input before creating anything
        if reg is None:
            reg = get_or_create_draft(veteran, today.year, actor=account, channel="online")
            cleaned = _clean_for(reg, content)  # again: the row may be a concurrent writer's
        reg.content = {**working_content(veteran, reg, today.year), **cleaned}
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


def history(*, veteran, cursor=None, limit=20):
    """The veteran's registrations, newest year first, keyset by year (one per year). Returns (items, next_cursor)."""
    query = select(Registration).where(Registration.veteran_id == veteran.id)
    if cursor:
        query = query.where(Registration.year < cursor)
    rows = db.session.scalars(query.order_by(Registration.year.desc()).limit(limit + 1)).all()
    return rows[:limit], (rows[limit - 1].year if len(rows) > limit else None)


def _clean_all_at_once(reg, veteran, content, year):
    """`_clean_for`, but a refused submission also names every section it would still lack (the form shows all its
    problems in one answer, not one round at a time)."""
    try:
        return _clean_for(reg, content)
    except ValidationFailed as error:
        given = {name: value for name, value in content.items() if isinstance(value, dict)}
        missing = forms.missing_sections({**working_content(veteran, reg, year), **given})
        raise type(error)(error.message, code=error.code, details={**missing, **error.details}) from None


def enter_onsite(*, actor, veteran_id, content, submit_now=False, now=None):
    """Station staff enter or complete a veteran's registration at the counter (channel "onsite"), overdue ones too.

    :raises PermissionDenied, VeteranNotFound, NotEditable, ValidationFailed, Incomplete
    """
    require_permission(actor, "registration.enter")
    today = today_cst(now)
    with transaction():
        veteran = veterans_service.get_veteran(actor=actor, veteran_id=veteran_id)
        reg = find_registration(veteran.id, today.year, lock=True)
        cleaned = _clean_all_at_once(reg, veteran, content, today.year) if submit_now else _clean_for(reg, content)
        if reg is None:
            reg = get_or_create_draft(veteran, today.year, actor=actor, channel="onsite")
            cleaned = _clean_for(reg, content)  # the row may be a concurrent writer's
        reg.content = {**working_content(veteran, reg, today.year), **cleaned}
        reg.channel, reg.entered_by_id = "onsite", actor.id
        if submit_now:
            _submit(reg, actor=actor, channel="onsite")
    return reg


def list_events(reg):
    """The registration's timeline, oldest first (callers have already checked access to `reg`)."""
    return db.session.scalars(
        select(RegistrationEvent).where(RegistrationEvent.registration_id == reg.id).order_by(RegistrationEvent.id)
    ).all()
