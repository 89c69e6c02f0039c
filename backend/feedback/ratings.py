"""Ratings (好差评) from the phone: once per service event; 不满意 or worse opens a case (backend/feedback/cases.py)."""

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from backend import pii
from backend.audit import service as audit_service
from backend.db import transaction
from backend.errors import ValidationFailed
from backend.extensions import db
from backend.feedback import cases, pending
from backend.feedback.models import BAD_SCORE, SCORES, SUBJECTS, Rating
from backend.feedback.rules import COMMENT_MAX, AlreadyRated


def _clean(subject, score, comment):
    errors = {}
    if subject not in SUBJECTS:
        errors["subject"] = "请选择评价的服务"
    if score not in SCORES:
        errors["score"] = "请选择评价等级"
    comment = (comment or "").strip()
    if len(comment) > COMMENT_MAX:
        errors["comment"] = f"留言不超过{COMMENT_MAX}字"
    if errors:
        raise ValidationFailed(details=errors)
    return comment


def rate(*, account, subject, subject_id, score, comment=None):
    """The veteran's rating of their own event. Returns (rating, case or None).

    :raises ValidationFailed, EventNotFound (another's, too old, not served), AlreadyRated:"""
    comment = _clean(subject, score, comment)
    veteran_id = account.veteran_id
    try:
        with transaction():
            event = pending.find_event(veteran_id, subject, subject_id)
            if db.session.scalar(
                select(Rating.id).where(
                    Rating.subject == subject, Rating.subject_id == subject_id, Rating.veteran_id == veteran_id
                )
            ):
                raise AlreadyRated()
            rating = Rating(
                veteran_id=veteran_id,
                subject=subject,
                subject_id=subject_id,
                station_id=event.station_id,
                staff_id=event.staff_id,
                score=score,
                comment_sealed=pii.encrypt(comment, context="rating.comment") if comment else None,
            )
            db.session.add(rating)
            db.session.flush()
            audit_service.record(
                actor=account,
                action="feedback.rated",
                object_type="rating",
                object_id=rating.id,
                org_path=cases.unit_path(event.station_id),
                details={"subject": subject, "score": score},
            )
            case = None
            if score <= BAD_SCORE:
                case = cases.open_case(
                    actor=account,
                    source="rating",
                    veteran_id=veteran_id,
                    subject_unit_id=event.station_id,
                    subject_staff_id=rating.staff_id,  # hidden from the person rated, who never handles it
                    rating=rating,
                )
    except IntegrityError:  # the same rating raced in twice: the unique constraint answers
        raise AlreadyRated() from None
    return rating, case
