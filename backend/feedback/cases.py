"""Feedback cases (the closed loop): opened for the unit above the one rated or complained about, due in
FEEDBACK_DUE_WORKING_DAYS working days on China's calendar; the staff reads.

Hidden from the subject: every read of cases goes through visible(), which adds the subject_staff_id condition to the
scope's in the query itself, so lists, counts, details and figures never reach the person complained about, who
therefore can never be assigned or act either (backend/feedback/handling.py).
"""

from datetime import timedelta

from sqlalchemy import or_, select

from backend import denials, pii
from backend.audit import service as audit_service
from backend.counting import capped_count
from backend.db import transaction
from backend.extensions import db
from backend.feedback import rules
from backend.feedback.models import Complaint, ComplaintAttachment, FeedbackCase, FeedbackCaseEvent, Rating
from backend.feedback.rules import CaseNotFound
from backend.notifications.events import notify
from backend.orgs.models import OrgUnit
from backend.orgs.scope import require_permission, scoped
from backend.registration.windows import today_cst
from backend.staff.models import Staff
from backend.veterans.models import Veteran

COUNT_CAP = 1000  # the portal's figures count no further (backend/counting.py)
OPEN_STATES = ("open", "contacted")  # the deadline runs; overdue ones escalate
LINK = "pages/feedback/complaints"


def handling_unit_for(unit_id, staff_id=None):
    """The unit above the one concerned (a station's county center); the root handles its own. When a staff member
    is concerned, the unit above the higher of (the station, the person's own unit): a county center's staff are
    never handled by their own center."""
    concerned = db.session.execute(select(OrgUnit.id, OrgUnit.depth).where(OrgUnit.id == unit_id)).first()
    if staff_id is not None:
        own = db.session.execute(
            select(OrgUnit.id, OrgUnit.depth).join(Staff, Staff.org_unit_id == OrgUnit.id).where(Staff.id == staff_id)
        ).first()
        if own is not None and (concerned is None or own.depth < concerned.depth):
            concerned = own
    target = concerned.id if concerned is not None else unit_id
    parent = db.session.scalar(select(OrgUnit.parent_id).where(OrgUnit.id == target))
    return parent or target


def unit_path(unit_id):
    return db.session.scalar(select(OrgUnit.path).where(OrgUnit.id == unit_id))


def open_case(*, actor, source, veteran_id, subject_unit_id, subject_staff_id=None, rating=None, complaint=None):
    """A case for the unit above the subject unit (inside the caller's transaction); the veteran is told."""
    unit_id = handling_unit_for(subject_unit_id, subject_staff_id)
    due_on = rules.add_working_days(today_cst(), rules.due_days())
    case = FeedbackCase(
        source=source,
        rating_id=rating.id if rating is not None else None,
        complaint_id=complaint.id if complaint is not None else None,
        veteran_id=veteran_id,
        subject_unit_id=subject_unit_id,
        subject_staff_id=subject_staff_id,
        unit_id=unit_id,
        state="open",
        escalations=0,
        due_on=due_on,
        first_due_on=due_on,
    )
    db.session.add(case)
    db.session.flush()
    db.session.add(FeedbackCaseEvent(case_id=case.id, action="opened", to_unit_id=unit_id))
    what = "评价" if source == "rating" else "投诉建议"
    notify(
        "feedback.case",
        [veteran_id],
        title=f"您的{what}正在办理",
        body=f"您的{what}已转交上级单位办理，将在{case.due_on.month}月{case.due_on.day}日前与您联系并回复。",
        link=LINK,
        values={"结果": "已受理"},
        sender_unit_id=unit_id,
    )
    audit_service.record(
        actor=actor,
        action="feedback.case_opened",
        object_type="feedback_case",
        object_id=case.id,
        org_path=unit_path(unit_id),
        details={"source": source, "due_on": case.due_on.isoformat()},
    )
    return case


def audit(actor, action, case, **details):
    audit_service.record(
        actor=actor,
        action=action,
        object_type="feedback_case",
        object_id=case.id,
        org_path=unit_path(case.unit_id),
        details=details,
    )


# --- staff reads


def visible(query, actor):
    """Cases handled in the actor's subtree, except those about the actor (the hidden-from-subject rule)."""
    query = scoped(query, actor, FeedbackCase.unit_id)
    return query.where(or_(FeedbackCase.subject_staff_id.is_(None), FeedbackCase.subject_staff_id != actor.id))


def get_case(*, actor, case_id, permission="feedback.view", lock=False):
    """A visible case. :raises PermissionDenied, CaseNotFound: (the subject gets the same 404 as a missing one)"""
    require_permission(actor, permission)
    try:
        case_id = int(case_id)
    except (TypeError, ValueError):
        raise CaseNotFound() from None
    query = visible(select(FeedbackCase).where(FeedbackCase.id == case_id), actor)
    if lock:
        query = query.with_for_update(of=FeedbackCase)
    case = db.session.scalars(query).first()
    if case is None:
        if denials.exists(FeedbackCase, case_id):
            raise denials.mark(CaseNotFound(), object_type="feedback_case", object_id=case_id)
        raise CaseNotFound()
    return case


def list_cases(*, actor, state=None, overdue=False, before=None, limit=50):
    """Visible cases, newest first, keyset by id: (rows, next_before)."""
    require_permission(actor, "feedback.view")
    query = visible(select(FeedbackCase), actor)
    if state in rules.STATE_LABELS:
        query = query.where(FeedbackCase.state == state)
    if overdue:
        query = query.where(FeedbackCase.state.in_(OPEN_STATES), FeedbackCase.due_on < today_cst())
    if before:
        query = query.where(FeedbackCase.id < before)
    rows = db.session.scalars(query.order_by(FeedbackCase.id.desc()).limit(limit + 1)).all()
    return rows[:limit], (rows[limit - 1].id if len(rows) > limit else None)


def count_due(*, actor, within_days=2):
    """(due within `within_days` working days or overdue, overdue) in the actor's view: capped counts."""
    require_permission(actor, "feedback.view")
    today = today_cst()
    horizon = rules.add_working_days(today, within_days)
    base = visible(select(FeedbackCase.id), actor).where(FeedbackCase.state.in_(OPEN_STATES))
    return (
        capped_count(base.where(FeedbackCase.due_on <= horizon)),
        capped_count(base.where(FeedbackCase.due_on < today)),
    )


def can_read_texts(actor):
    return actor.can("feedback.handle")


def view_case(*, actor, case_id):
    """(case, texts or None) for the case page; texts (the comment or complaint, the handling record) are opened for
    handlers only. Every view is audited. :raises PermissionDenied, CaseNotFound:"""
    case = get_case(actor=actor, case_id=case_id)
    texts = None
    if can_read_texts(actor):
        texts = {"text": source_text(case), "handling": handling(case)}
    with transaction():
        audit(actor, "feedback.case_viewed", case, texts_shown=texts is not None)
    return case, texts


def source_of(case):
    """The Rating or the Complaint the case came from."""
    return db.session.get(Rating, case.rating_id) if case.rating_id else db.session.get(Complaint, case.complaint_id)


def source_text(case):
    source = source_of(case)
    if isinstance(source, Rating):
        return pii.decrypt(source.comment_sealed, context="rating.comment") if source.comment_sealed else ""
    return pii.decrypt(source.text_sealed, context="complaint.text") if source is not None else ""


def handling(case):
    """{"contacts": [notes], "outcome": text} of the handling record (sealed)."""
    if not case.handling_sealed:
        return {"contacts": [], "outcome": None}
    return pii.decrypt_json(case.handling_sealed, context="feedback_case.handling")


def set_handling(case, record):
    case.handling_sealed = pii.encrypt_json(record, context="feedback_case.handling")


def timeline(case_id):
    return db.session.scalars(
        select(FeedbackCaseEvent).where(FeedbackCaseEvent.case_id == case_id).order_by(FeedbackCaseEvent.id)
    ).all()


def attachments_of_case(case):
    if not case.complaint_id:
        return []
    return db.session.scalars(
        select(ComplaintAttachment)
        .where(ComplaintAttachment.complaint_id == case.complaint_id)
        .order_by(ComplaintAttachment.id)
    ).all()


def colleagues(case):
    """Who may be assigned: active staff of the handling unit with feedback.handle, never the subject."""
    rows = db.session.scalars(
        select(Staff).where(Staff.org_unit_id == case.unit_id, Staff.is_active.is_(True)).order_by(Staff.id).limit(200)
    ).all()
    return [s for s in rows if s.can("feedback.handle") and s.id != case.subject_staff_id]


def names(cases, events=()):
    """({veteran_id: name}, {unit_id: name}, {staff_id: name}) for a page of cases and events."""
    veteran_ids = {c.veteran_id for c in cases}
    unit_ids = {c.unit_id for c in cases} | {c.subject_unit_id for c in cases}
    unit_ids |= {e.from_unit_id for e in events} | {e.to_unit_id for e in events}
    staff_ids = {c.assignee_id for c in cases} | {c.subject_staff_id for c in cases} | {e.staff_id for e in events}
    veterans = dict(db.session.execute(select(Veteran.id, Veteran.name).where(Veteran.id.in_(veteran_ids))).all())
    units = dict(db.session.execute(select(OrgUnit.id, OrgUnit.name).where(OrgUnit.id.in_(unit_ids - {None}))).all())
    staff = dict(db.session.execute(select(Staff.id, Staff.full_name).where(Staff.id.in_(staff_ids - {None}))).all())
    return veterans, units, staff


# --- figures


def _period(first, last):
    from datetime import datetime, time

    from backend.registration.windows import CST

    return datetime.combine(first, time.min, CST), datetime.combine(last + timedelta(days=1), time.min, CST)


def score_counts(*, actor, first, last):
    """{score: CappedCount} of ratings of units in the actor's subtree made between first and last (CST dates,
    inclusive): per score an indexed LIMIT COUNT_CAP + 1 (never a full count at province scope; the assessment's
    satisfaction figure has the whole year). Ratings of events the viewer served are shown: only complaint texts
    about a person are hidden from that person."""
    require_permission(actor, "feedback.view")
    start, end = _period(first, last)
    base = scoped(
        select(Rating.id).where(Rating.created_at >= start, Rating.created_at < end), actor, Rating.station_id
    )
    return {score: capped_count(base.where(Rating.score == score), COUNT_CAP) for score in (5, 4, 3, 2, 1)}


def closed_figures(*, actor, first, last):
    """(closed, closed in time) of visible cases closed between first and last (CST dates): CappedCounts over the
    (state, closed_at) index."""
    require_permission(actor, "feedback.view")
    start, end = _period(first, last)
    base = visible(
        select(FeedbackCase.id).where(
            FeedbackCase.state == "closed", FeedbackCase.closed_at >= start, FeedbackCase.closed_at < end
        ),
        actor,
    )
    return capped_count(base, COUNT_CAP), capped_count(base.where(FeedbackCase.closed_in_time.is_(True)), COUNT_CAP)
